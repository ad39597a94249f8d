// One RISC-V hart in user mode: RV64IMAFDC with Zicsr and Zifencei, as Debian's riscv64
// toolchain emits for lp64d. Every instruction fetch, load and store is translated by the
// modelled MMU (and so counted by the TLB); nothing reaches host memory any other way.
//
// The hart does not know about the kernel. run() executes until something only the kernel can
// handle happens, and reports it as a StopInfo value: an ecall, a page fault (the instruction has
// had no effect and restarts when run() is called again), an illegal instruction, a breakpoint,
// or the instruction budget running out. The kernel then handles the event and calls run() again.
//
// Fast path: a small per-hart cache of translations (host page pointers) taken from TLB entries.
// It is emptied whenever the TLB is flushed or evicts (the Tlb's generation changes), so it never
// outlives the TLB entry it copies, and every access still counts as a TLB hit. Hits served here
// do not refresh the TLB's LRU order, as an L1 TLB's hits do not reach the L2's.
//
// Translation: where a riscv::Translator exists (x86-64 hosts), run() hands it the run, and it
// executes the same instructions as host code made from the decodes, with this interpreter
// running what it leaves (budget ends, page-straddling instructions); the two give the same run,
// bit for bit (set_translation(false) keeps the interpreter alone).
//
// Driving it: set_satp() for the process, then run(slice) in a loop. After Ecall, advance pc by 4
// and write a0; after PageFault, handle the fault and call run() again (the instruction restarts);
// after either, clear reservation_valid, as Linux's return from a trap does with a dummy SC.
//
// Code cache: each physical code frame is decoded once, lazily, into a riscv::DecodedPage. The
// decodes are keyed by frame, so they stay valid across address spaces and go stale only when
// the frame's bytes change. The hart notices its own fence.i; the memory manager tells it, through
// the CodeCachePort, of every frame it frees (a frame gets new contents only after it was freed
// and allocated again: a page read in, swapped in, copied, migrated or collapsed into a huge
// page); the kernel calls invalidate_caches() for riscv_flush_icache. This is where Linux calls
// flush_icache_pte() / flush_icache_all() on RISC-V.
//
// Counters: cycle and instret read the retired-instruction count; time reads the simulated clock
// in ticks of 100 ns, the 10 MHz timebase of the RISC-V "virt" board Linux runs on.
#pragma once

#include <array>
#include <memory>
#include <unordered_map>

#include "base/Types.h"
#include "hw/CodeCachePort.h"
#include "hw/Mmu.h"
#include "hw/riscv/Decoder.h"

namespace kioku {

class Clock;
namespace riscv {
class Translator;
}

struct HartState {
    std::array<u64, 32> x{}; // integer registers; x[0] reads as zero
    std::array<u64, 32> f{}; // floating-point registers, NaN-boxed for single precision
    u64 pc = 0;
    u32 fcsr = 0; // frm in bits 7..5, fflags in bits 4..0
    // LR/SC reservation: the physical address reserved by the last LR, if any.
    bool reservation_valid = false;
    u64 reservation_pa = 0;
};

enum class StopReason : u8 {
    Ecall,              // pc points at the ecall; the kernel advances it by 4
    Breakpoint,         // ebreak (or c.ebreak); pc points at it
    PageFault,          // fault holds address and access; pc at the faulting instruction
    IllegalInstruction, // tval holds the instruction bits; pc at it
    BudgetExhausted,    // the instruction budget ran out between two instructions
    MisalignedAtomic,   // LR/SC/AMO on an address not aligned to its size; fault.addr holds it
};

struct StopInfo {
    StopReason reason = StopReason::BudgetExhausted;
    PageFault fault; // for PageFault
    u64 tval = 0;    // the instruction bits for IllegalInstruction
};

struct HartStats {
    u64 instret = 0; // instructions retired
};

// Told of every page the hart references (kioku run --trace-refs): each load and store, and each
// instruction fetch that enters another code page. The hart runs a second instance of its
// interpreter loop while a sink is set, so the usual one pays nothing for it.
class ReferenceSink {
  public:
    virtual ~ReferenceSink() = default;
    virtual void reference(u64 va, isa::AccessType access) = 0;
};

class Hart final : public CodeCachePort {
  public:
    Hart(Mmu& mmu, Clock& clock);
    ~Hart();
    Hart(const Hart&) = delete;
    Hart& operator=(const Hart&) = delete;

    HartState& state() { return m_state; }
    const HartState& state() const { return m_state; }
    void set_satp(const Satp& satp);
    const Satp& satp() const { return m_satp; }

    // Executes at most `budget` instructions. Retired instructions advance the clock by the cost
    // model's instruction_ns each.
    StopInfo run(u64 budget);
    void set_reference_sink(ReferenceSink* sink) { m_refs = sink; }
    // Whether guest code runs translated to host code (the default where a translator exists) or
    // through the interpreter alone. Both give the same run, bit for bit; the interpreter is the
    // reference the translator is tested against.
    void set_translation(bool on, size_t code_bytes = 0);
    bool translating() const { return m_translator != nullptr; }
    const riscv::Translator* translator() const { return m_translator.get(); }

    const HartStats& stats() const { return m_stats; }

    // Drops cached decodes (fence.i, riscv_flush_icache) and cached translations.
    void invalidate_caches();
    // Drops the cached decodes of frames [first, first + count) (CodeCachePort).
    void invalidate_code(Pfn first, u64 count) override;

  private:
    // The translation cache is the hart's first-level TLB: 1024 slots, direct-mapped by virtual
    // page number, in front of the modelled TLB, as a core's L1 TLB sits in front of its L2.
    // It holds only translations the TLB holds (any flush or eviction empties it), so its hits
    // are TLB hits and are counted as such; like a real L1 hit, one does not refresh the TLB's
    // LRU order, which only the misses that reach it do.
    //
    // One slot of the translation cache, direct-mapped by virtual page number. Each tag is the
    // virtual page base the slot was validated for with that access, or NO_PAGE; a write tag is
    // set only by a store translation, so the page's D bit is known to be set. No slot has a
    // write tag while an LR reservation is held: every store then takes the slow path, which
    // ends the reservation when it hits it, and the fast paths need not look.
    // Never a page base, and never equal to an address masked as the fast paths mask it (page
    // bits and the bits below the access size), so an empty slot never matches.
    static constexpr u64 NO_PAGE = 0x800;
    static constexpr unsigned TC_SLOTS = 1024;
    // A slot is a cache line, so the translator finds it with a shift and a mask.
    struct alignas(64) TcSlot {
        u64 read_tag = NO_PAGE;
        u64 write_tag = NO_PAGE;
        u64 exec_tag = NO_PAGE;
        u8* host = nullptr;                 // the frame's first byte
        riscv::DecodedPage* code = nullptr; // set with exec_tag
        u64 addend = 0;                     // host - the page's virtual address, mod 2^64
    };
    // A data access resolved to host bytes: `first_len` bytes at `first`, the rest at `second`
    // (the next page) when the access crosses a page boundary.
    struct Span {
        u8* first = nullptr;
        u8* second = nullptr;
        unsigned first_len = 0;
    };
    // The cap on decoded frames kept; past it the code cache starts afresh (32 KiB per frame).
    static constexpr size_t MAX_DECODED_PAGES = 2048;

    static unsigned slot_index(u64 va) { return (va >> PAGE_SHIFT) & (TC_SLOTS - 1); }
    TcSlot& slot_of(u64 va) { return m_tc[slot_index(va)]; }
    friend class riscv::Translator;

    // Interprets at most `budget` instructions from m_state.pc. `page` is the decoded page of the
    // code page m_code_page_va names, when it names one, and on return the one execution ended
    // on. `retired_before` is what this run() retired before (the counter CSRs include it);
    // `retired` and `fetched` say what this call retired and fetched.
    template <bool Refs>
    StopInfo run_loop(u64 budget, u64 retired_before, riscv::DecodedPage*& page, u64& retired, bool& fetched);
    template <typename T, bool Refs>
    bool load(u64 va, T& out, u64& hits);
    template <typename T, bool Refs>
    bool store(u64 va, T value, u64& hits);
    bool resolve(u64 va, unsigned size, isa::AccessType access, Span& span);
    static void read_span(const Span& span, unsigned size, void* out);
    static void write_span(const Span& span, unsigned size, const void* in);
    bool translate_page(u64 va, isa::AccessType access, u8*& host);
    void fill_slot(u64 va, isa::AccessType access, u8* host);
    bool load_slow(u64 va, unsigned size, void* out);
    bool store_slow(u64 va, unsigned size, const void* in);
    riscv::DecodedPage* code_page(u64 pc)
    {
        const TcSlot& s = slot_of(pc);
        return s.exec_tag == (pc & PAGE_MASK) ? s.code : code_page_slow(pc);
    }
    riscv::DecodedPage* code_page_slow(u64 pc);
    riscv::DecodedPage* decoded_page_for(u8* frame_host);
    void decode_slot(riscv::DecodedPage& page, u64 pc);
    bool fetch_straddling(const riscv::DecodedPage& page, u64 pc, riscv::Insn& out);
    void flush_translations();
    void withdraw_write_tags(); // as an LR reservation is taken
    void sync_with_tlb();
    u64 phys_of(const u8* host) const;
    void drop_reservation_if_hit(const u8* host, unsigned size);

    bool execute_amo(const riscv::Insn& in);
    bool execute_lr(const riscv::Insn& in);
    bool execute_sc(const riscv::Insn& in);
    bool execute_csr(const riscv::Insn& in, u64 retired_in_run);
    bool execute_fp(const riscv::Insn& in);
    bool read_csr(u32 csr, u64 retired_in_run, u64& value) const;
    bool write_csr(u32 csr, u64 value);
    void finish_run(u64 retired, u64 fetched);

    Mmu& m_mmu;
    Clock& m_clock;
    ReferenceSink* m_refs = nullptr;
    HartState m_state;
    Satp m_satp;
    HartStats m_stats;

    std::array<TcSlot, TC_SLOTS> m_tc{};
    std::array<u64, TC_SLOTS / 64> m_tc_filled{};   // which slots may hold a tag: flushes touch only those
    std::array<u64, TC_SLOTS / 64> m_tc_writable{}; // which slots may hold a write tag
    u64 m_code_page_va = NO_PAGE; // the page run() fetches from; reset by a flush to force a lookup
    u64 m_tlb_generation = 0;     // the TLB generation m_tc was filled in
    u64 m_cached_hits = 0;        // slow-path data accesses served by m_tc during this run()
    u64 m_mmu_fetches = 0;        // instruction fetches translated by the MMU during this run()
    u8* m_memory_host = nullptr;  // host address of the first byte of physical memory
    // The translator's page runs (Translator.cpp): per base register and kind of access, the
    // addend of the page the run was checked to stay on, or 0.
    std::array<u64, 64> m_run_addend{};
    // The translator's jump cache: the block last entered at a pc by an indirect transfer,
    // with the decoded page it was entered in. Emptied whenever decoded pages or translations
    // are dropped; an entry holds only while its page is the one the target's page maps.
    struct JumpSlot {
        u64 pc = 1; // never a pc: pcs are even
        const riscv::DecodedPage* page = nullptr;
        const void* code = nullptr;
        u64 unused = 0;
    };
    static constexpr unsigned JUMP_SLOTS = 2048; // indexed by pc bits 1-11
    std::array<JumpSlot, JUMP_SLOTS> m_jumps{};
    u8 m_jumps_used = 0; // set by generated code as it fills a slot
    void forget_jumps();
    u64 m_memory_base = 0;
    StopInfo m_fault; // set by a helper that returns false
    // The decode of an instruction that crosses a page, laid out like page slots: the slot two
    // parcels on holds a PageEnd, so execution continues on the next page after it.
    std::array<riscv::Insn, 3> m_straddled{};
    std::unordered_map<u64, std::unique_ptr<riscv::DecodedPage>> m_code;
    std::unique_ptr<riscv::Translator> m_translator; // null: the interpreter runs everything
};

} // namespace kioku
