/* An interpreter loop: a small stack machine with a switch dispatch runs a bytecode program that
 * counts the Collatz steps of a range of numbers. Indirect jumps, a loaded-and-stored stack, and
 * the decode-dispatch pattern of every scripting-language interpreter. Size: numbers / 2000. */
#include "common.h"

enum Opcode {
    PUSH,  /* push the immediate */
    LOAD,  /* push variable[imm] */
    STORE, /* pop into variable[imm] */
    ADD,
    SUB,
    MUL,
    AND,
    SHR1,  /* top >>= 1 */
    JZ,    /* pop; jump to imm if zero */
    JMP,
    LT,    /* pop b, pop a, push a < b */
    HALT,
};

struct Instr {
    int op;
    int64_t imm;
};

/* Variables: 0 n (the number), 1 x (its current value), 2 steps (total), 3 limit. */
static const struct Instr PROGRAM[] = {
    /*  0: while n < limit */ {LOAD, 0}, {LOAD, 3}, {LT, 0}, {JZ, 33},
    /*  4: x = n */ {LOAD, 0}, {STORE, 1},
    /*  6: while x != 1 */ {LOAD, 1}, {PUSH, 1}, {SUB, 0}, {JZ, 28},
    /* 10: if x is odd */ {LOAD, 1}, {PUSH, 1}, {AND, 0}, {JZ, 20},
    /* 14: 3x + 1 */ {LOAD, 1}, {PUSH, 3}, {MUL, 0}, {PUSH, 1}, {ADD, 0}, {JMP, 22},
    /* 20: else x / 2 */ {LOAD, 1}, {SHR1, 0},
    /* 22: x = that; steps += 1 */ {STORE, 1}, {LOAD, 2}, {PUSH, 1}, {ADD, 0}, {STORE, 2}, {JMP, 6},
    /* 28: n += 1 */ {LOAD, 0}, {PUSH, 1}, {ADD, 0}, {STORE, 0}, {JMP, 0},
    /* 33: */ {HALT, 0},
};

static int64_t run(const struct Instr* code, int64_t* vars)
{
    int64_t stack[16];
    int sp = 0;
    long pc = 0;
    int64_t executed = 0;
    for (;;) {
        const struct Instr* in = &code[pc++];
        ++executed;
        switch (in->op) {
        case PUSH: stack[sp++] = in->imm; break;
        case LOAD: stack[sp++] = vars[in->imm]; break;
        case STORE: vars[in->imm] = stack[--sp]; break;
        case ADD: --sp; stack[sp - 1] += stack[sp]; break;
        case SUB: --sp; stack[sp - 1] -= stack[sp]; break;
        case MUL: --sp; stack[sp - 1] *= stack[sp]; break;
        case AND: --sp; stack[sp - 1] &= stack[sp]; break;
        case SHR1: stack[sp - 1] >>= 1; break;
        case JZ: if (stack[--sp] == 0) pc = in->imm; break;
        case JMP: pc = in->imm; break;
        case LT: --sp; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
        case HALT: return executed;
        default: return -1;
        }
    }
}

int main(int argc, char** argv)
{
    long size = bench_size(argc, argv, 6);
    int64_t vars[4] = {1, 0, 0, 1 + size * 2000};
    int64_t executed = run(PROGRAM, vars);
    uint64_t sum = bench_mix(BENCH_CHECKSUM_SEED, (uint64_t)vars[2]);
    sum = bench_mix(sum, (uint64_t)executed);
    bench_report("interp", size, sum);
    return 0;
}
