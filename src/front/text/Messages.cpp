#include "front/text/Messages.h"

#include <algorithm>
#include <array>
#include <cstdlib>

namespace kioku::text {

namespace {

struct Entry {
    Msg msg;
    const char* en;
    const char* ja;
};

// One row per message, in the order of the enum (checked below and by MessagesTest).
constexpr Entry CATALOGUE[] = {
    {Msg::TraceHeader, "t|page|frames|result|victim, and why",
     "時刻|ページ|フレーム|結果|追い出したページと理由"},
    {Msg::TraceOrderFifo, "FIFO order, next victim first", "FIFO の順（次に追い出すものが先頭）"},
    {Msg::TraceOrderLru, "LRU order, least recently used first", "LRU の順（最も昔に使われたものが先頭）"},
    {Msg::TraceOrderOpt, "OPT order, next used furthest ahead first",
     "OPT の順（次の使用が最も先のものが先頭）"},
    {Msg::TraceOrderClock, "CLOCK, from the hand (* = reference bit set)",
     "CLOCK の針の位置から（* は参照ビットが 1）"},
    {Msg::TraceOrderOther, "resident pages", "常駐しているページ"},
    {Msg::Hit, "hit", "ヒット"},
    {Msg::Fault, "fault", "フォールト"},
    {Msg::FaultSwappedIn, "fault, swapped in", "フォールト（スワップイン）"},
    {Msg::WhyFifo, "{0}: came in first (t={1})", "{0}：最初に入った（t={1}）"},
    {Msg::WhyLru, "{0}: last used longest ago (t={1})", "{0}：最後に使われたのが最も昔（t={1}）"},
    {Msg::WhyOptNext, "{0}: next used furthest ahead (t={1})", "{0}：次に使われるのが最も先（t={1}）"},
    {Msg::WhyOptNever, "{0}: never used again", "{0}：この先もう使われない"},
    {Msg::WhyClock, "{0}: its bit was clear when the hand came ({1}: bit cleared, a second chance)",
     "{0}：針が来たとき参照ビットが 0（{1} はビットを消して二度目の機会）"},
    {Msg::WhyClockNone, "{0}: its bit was clear when the hand came", "{0}：針が来たとき参照ビットが 0"},
    {Msg::WhyClockRound, "{0}: every bit was set; the hand cleared them all and came round to it",
     "{0}：参照ビットがすべて 1 だったので、針が一周して全部消し、最初のこれに戻った"},
    {Msg::WhyOther, "{0}: chosen by {1}", "{0}：{1} が選んだ"},
    {Msg::TraceLegendClock, "* = reference bit set", "* は参照ビットが 1"},
    {Msg::CompareHeader, "page faults|{0} frames", "ページフォールト|{0} フレーム"},
    {Msg::CompareAnomaly,
     "{0}: more frames, more faults (Belady's anomaly): {2} with {1} frames, {4} with {3}",
     "{0}：フレームを増やすとフォールトが増える（Belady の異常）：{1} フレームで {2} 回、{3} フレームで {4} "
     "回"},
    {Msg::CompareLinuxLru,
     "(lru is Linux's two lists, which see only accessed bits; the textbook's LRU is exact-lru)",
     "（lru は Linux の 2 つのリストで、アクセスビットしか見ない。教科書の LRU は exact-lru）"},
    {Msg::QuizIntro,
     "{0} with {1} frames, all empty at first. The reference string: {2}\n"
     "For each reference answer h (a hit), - (a fault into a free frame) or the page that goes.",
     "{0}、フレーム数 {1}、最初はすべて空。参照列：{2}\n"
     "各参照に答えてください：h（ヒット）、-（空きフレームへのフォールト）、または追い出されるページ。"},
    {Msg::QuizPrompt, "t={0}, page {1}; frames: {2} > ", "t={0}、ページ {1}；フレーム：{2} > "},
    {Msg::QuizRight, "right", "正解"},
    {Msg::QuizWrong, "no: {0}", "不正解：{0}"},
    {Msg::QuizScore, "{0} of {1} right; {2} faults in all", "{1} 問中 {0} 問正解；フォールトは全部で {2} 回"},
    {Msg::QuizAnswerHit, "a hit", "ヒット"},
    {Msg::QuizAnswerFree, "a fault into a free frame", "空きフレームへのフォールト"},
    {Msg::QuizAnswerVictim, "a fault; {0} goes", "フォールト；{0} を追い出す"},
    {Msg::DemoIntro,
     "kioku demo: virtual memory in {0} chapters, each on a fresh RISC-V machine. Every line under a heading "
     "is a command run on it; what follows -> is what the kernel answered, and the views are its own /proc "
     "files.",
     "kioku demo：仮想記憶を {0} 章で。各章は新しい RISC-V "
     "マシンで動く。見出しの下の各行はそのマシンで実行したコマンドで、-> の後がカーネルの答え、表示は /proc "
     "の内容そのもの。"},
    {Msg::DemoHeading, "== {0}. {1} ==", "== 第 {0} 章　{1} =="},
    {Msg::DemoPause, "(Enter: the next chapter) ", "（Enter で次の章へ）"},
    {Msg::DemoFailed, "kioku demo: chapter {0} did not go as its text says",
     "kioku demo：第 {0} 章が説明どおりに進まなかった"},
    {Msg::DemoList, "The chapters (kioku demo --chapter N):", "章の一覧（kioku demo --chapter N）："},
    {Msg::DemoNoChapter, "there is no chapter {0} (1 to {1})", "第 {0} 章はない（1 から {1} まで）"},
    {Msg::Demo1Title, "Physical memory and the buddy allocator", "物理メモリとバディ・アロケータ"},
    {Msg::Demo1Text,
     "Physical memory is a row of 4 KiB frames. The kernel keeps one descriptor per frame and hands out free "
     "frames in blocks of 2^order pages from per-order free lists: the buddy system. buddyinfo counts the "
     "free blocks of each order, from 1 page to 1024.",
     "物理メモリは 4 KiB のフレームの並び。カーネルはフレームごとに記述子を一つ持ち、空きフレームを 2^order "
     "ページのブロック単位で、オーダーごとの空きリストから渡す。これがバディ・システム。buddyinfo "
     "はオーダーごと（1 ページから 1024 ページまで）の空きブロックの数を示す。"},
    {Msg::Demo2Title, "Every process has its own address space", "プロセスごとのアドレス空間"},
    {Msg::Demo2Text,
     "Two processes map a page at the same virtual address, 0x10000000, and write different bytes there. "
     "Each has its own page table, so the same address leads to different frames (the pfn in pagemap): "
     "neither can see the other's memory.",
     "二つのプロセスが同じ仮想アドレス 0x10000000 "
     "にページを割り当て、別々の値を書く。ページテーブルはプロセスごとにあるので、同じアドレスが別のフレーム"
     "（pagemap の pfn）に行き着く。互いのメモリは見えない。"},
    {Msg::Demo3Title, "Demand paging: memory is allocated when it is touched",
     "デマンドページング：触れたときに割り当てる"},
    {Msg::Demo3Text,
     "mmap only reserves a range of addresses, a VMA. No frame is allocated until the program touches a "
     "page: the MMU finds no valid entry, raises a page fault, and the kernel maps a zeroed frame. VmSize "
     "grows at mmap, VmRSS only as pages are touched.",
     "mmap "
     "はアドレスの範囲（VMA）を予約するだけ。プログラムがページに触れるまでフレームは割り当てられない。MMU "
     "が有効なエントリを見つけられずにページフォールトを起こし、カーネルがゼロで埋めたフレームを対応づける。V"
     "mSize は mmap で増え、VmRSS は触れたページの分だけ増える。"},
    {Msg::Demo3AfterMmap, "after the mmap of 64 MiB:", "64 MiB を mmap した後："},
    {Msg::Demo3AfterTouch, "after a store to each of 1000 pages: page faults",
     "1000 ページにそれぞれ書いた後：ページフォールト"},
    {Msg::Demo4Title, "The shared zero page", "共有ゼロページ"},
    {Msg::Demo4Text,
     "Reading memory that was never written needs no frame of its own: every such page is mapped read-only "
     "to one shared frame of zeros (the same pfn below). Only a write allocates a private frame.",
     "一度も書かれていないメモリを読むだけなら専用のフレームはいらない。そのようなページはすべて、ゼロで埋ま"
     "った一つの共有フレームに読み取り専用で対応づけられる（下の pfn "
     "がすべて同じ）。書いたときに初めて専用のフレームが割り当てられる。"},
    {Msg::Demo4AfterRead, "after reading 256 pages:", "256 ページを読んだ後："},
    {Msg::Demo4AfterWrite, "after writing one of them:", "そのうち 1 ページに書いた後："},
    {Msg::Demo5Title, "Page tables and the TLB", "ページテーブルと TLB"},
    {Msg::Demo5Text,
     "The MMU translates each address by walking a tree of tables kept in physical memory (four levels with "
     "Sv48, three with Sv39). The tables themselves cost memory: VmPTE for the process, PageTables for the "
     "machine.",
     "MMU はアドレスごとに、物理メモリ上に置かれたテーブルの木（Sv48 なら 4 段、Sv39 なら 3 "
     "段）をたどって変換する。テーブル自体もメモリを使う。プロセスの分は VmPTE、マシン全体は PageTables。"},
    {Msg::Demo5Tlb,
     "The TLB keeps translations. Writing the same 64 pages four times: the first pass walks the tables, the "
     "next three find every translation in the TLB. The figures are this step's own, not totals since boot.",
     "TLB は変換の結果を覚えておく。同じ 64 ページに 4 回書くと、1 回目はテーブルをたどり、残りの 3 "
     "回はすべて TLB で見つかる。数字はこの段階だけのもので、起動からの合計ではない。"},
    {Msg::Demo5Passes, "the TLB during the four passes:", "4 回の間の TLB："},
    {Msg::Demo6Title, "fork() and copy-on-write", "fork() とコピーオンライト"},
    {Msg::Demo6Text,
     "fork() copies no memory. Parent and child share every page, write-protected; the first write by either "
     "side faults, and only that page is copied. Until then a shared page counts half in each process's "
     "proportional set size, Pss.",
     "fork() "
     "はメモリをコピーしない。親と子はすべてのページを書き込み禁止で共有し、どちらかが最初に書いたときにフォ"
     "ールトが起きて、そのページだけがコピーされる。それまで共有ページは各プロセスの比例配分サイズ Pss "
     "に半分ずつ数えられる。"},
    {Msg::Demo6Faults, "the child writes 16 pages: copy-on-write faults",
     "子が 16 ページに書く：コピーオンライト・フォールト"},
    {Msg::Demo6Parent, "the parent still reads its own byte:", "親は自分の値を読む："},
    {Msg::Demo6Pss, "the parent's Rss and Pss in kB:", "親の Rss と Pss（kB）："},
    {Msg::Demo7Title, "Shared memory", "共有メモリ"},
    {Msg::Demo7Text,
     "A MAP_SHARED mapping is not copied at fork: both processes map the same frames, so a write by one is "
     "seen by the other. Shared anonymous memory lives in shmem and shows as Shmem.",
     "MAP_SHARED の割り当ては fork "
     "でコピーされない。両プロセスが同じフレームを対応づけるので、一方の書き込みがもう一方に見える。共有の無"
     "名メモリは shmem にあり、Shmem として現れる。"},
    {Msg::Demo8Title, "File mappings and the page cache", "ファイルの割り当てとページキャッシュ"},
    {Msg::Demo8Text,
     "A file is read through the page cache: an access to a page that is not there reads it from disk, a "
     "major fault, with its neighbours (readahead); later accesses find it in memory. A MAP_SHARED store "
     "dirties the cached page; msync writes it back to the file, and Dirty falls.",
     "ファイルはページキャッシュを通して読まれる。キャッシュにないページへのアクセスは、近くのページと一緒に"
     "（先読み）ディスクから読むメジャーフォールトになり、以後はメモリ上で見つかる。MAP_SHARED "
     "への書き込みはキャッシュのページを汚し、msync がファイルへ書き戻すと Dirty が減る。"},
    {Msg::Demo8Read, "reading the 1 MiB file through the mapping: major faults",
     "割り当てを通して 1 MiB のファイルを読む：メジャーフォールト"},
    {Msg::Demo9Title, "A segmentation fault", "セグメンテーション違反"},
    {Msg::Demo9Text,
     "An address outside every VMA means nothing to the process. The fault handler finds no VMA there, and "
     "the kernel sends SIGSEGV with si_code SEGV_MAPERR; with no handler, the process dies.",
     "どの VMA にも入らないアドレスは、そのプロセスにとって意味がない。フォールト処理は VMA "
     "を見つけられず、カーネルは si_code が SEGV_MAPERR の SIGSEGV "
     "を送る。ハンドラがなければプロセスは終わる。"},
    {Msg::Demo9Store, "the child's store to 0x1000:", "子の 0x1000 への書き込み："},
    {Msg::Demo10Title, "Protection changes split VMAs", "保護の変更は VMA を分割する"},
    {Msg::Demo10Text,
     "Permissions belong to a whole VMA. mprotect on part of one splits it into pieces with different "
     "permissions; restoring them lets the kernel merge the pieces again.",
     "アクセス権は VMA 全体に属する。一部に mprotect "
     "をかけると、権限の異なる断片に分割される。元に戻せばカーネルは断片を再び一つにまとめる。"},
    {Msg::Demo10Vmas, "VMAs in the region:", "領域の VMA の数："},
    {Msg::Demo11Title, "Page replacement: FIFO, LRU, OPT and Belady's anomaly",
     "ページ置換：FIFO、LRU、OPT と Belady の異常"},
    {Msg::Demo11Text,
     "With a fixed number of frames (3 here), a fault when every frame is taken must evict a resident page "
     "first, and which one is the replacement policy's choice. The trace shows each victim and why, as a "
     "textbook draws it.",
     "フレーム数が決まっているとき（ここでは "
     "3）、すべて埋まった状態でフォールトが起きると、まず常駐ページを一つ追い出さなければならない。どれを追い"
     "出すかは置換方式が決める。トレースは教科書のように、追い出したページとその理由を示す。"},
    {Msg::Demo11Compare,
     "Each policy on two strings, each run on a machine of its own. FIFO can fault more with more frames: "
     "Belady's anomaly. LRU and OPT cannot, being stack algorithms.",
     "二つの参照列をそれぞれの方式で、別々のマシンで実行する。FIFO "
     "はフレームを増やすとフォールトが増えることがある（Belady の異常）。LRU と OPT "
     "はスタック・アルゴリズムなので起きない。"},
    {Msg::Demo12Title, "Reclaim and swap", "回収とスワップ"},
    {Msg::Demo12Text,
     "Each zone has three watermarks, min, low and high, set from vm.min_free_kbytes. When free memory falls "
     "below low, kswapd wakes and reclaims in the background until high; an allocation that finds it below "
     "min reclaims by itself (direct reclaim). Reclaim takes the pages whose accessed bits say they were not "
     "used lately; anonymous ones go to swap.",
     "各ゾーンには vm.min_free_kbytes から決まる min、low、high の三つの水位がある。空きメモリが low "
     "を下回ると kswapd が起き、high まで裏で回収する。min "
     "を下回った状態で割り当てようとした処理は自分で回収する（直接回収）。回収されるのは、アクセスビットで最"
     "近使われていないと分かるページで、無名ページはスワップへ書き出される。"},
    {Msg::Demo12Wrote, "after writing 48 MiB in a 32 MiB machine:", "32 MiB のマシンに 48 MiB 書いた後："},
    {Msg::Demo12Back,
     "Reading it all back: the pages in swap come back by major faults, each bringing its neighbours in swap "
     "along (readahead), and other pages go out to make room. Every byte is still what was written.",
     "全部を読み直す。スワップにあるページはメジャーフォールトで戻り、スワップ上の隣のページも一緒に読み込ま"
     "れる（先読み）。場所を空けるため別のページが出ていく。どのバイトも書いたとおりのまま。"},
    {Msg::Demo12Read, "reading back:", "読み直し："},
    {Msg::Demo13Title, "The OOM killer: who dies, and why", "OOM キラー：誰が、なぜ終わらされるか"},
    {Msg::Demo13Text,
     "With no swap and no memory left, the kernel must kill a process. It chooses by badness: the memory a "
     "process holds (RSS, swap and page tables) as a share of the machine, plus oom_score_adj; oom_score "
     "shows it, from 0 to 1000.",
     "スワップもメモリも残っていなければ、カーネルはプロセスを一つ終わらせるしかない。選び方は "
     "badness：プロセスが持つメモリ（RSS、スワップ、ページテーブル）がマシン全体に占める割合に oom_score_adj "
     "を足したもの。oom_score がそれを 0 から 1000 で示す。"},
    {Msg::Demo13Grow,
     "grower asks for 14 MiB more. The largest process is killed, not the one asking; the kernel log says "
     "why.",
     "grower がさらに 14 MiB "
     "を求める。終わらされるのは求めたプロセスではなく、最も大きいプロセス。カーネルのログに理由が残る。"},
    {Msg::Demo13Adj,
     "oom_score_adj -1000 exempts a process: big now holds the most, yet grower is the one killed.",
     "oom_score_adj が -1000 のプロセスは対象外になる。いま最も大きいのは big だが、終わらされるのは "
     "grower。"},
    {Msg::Demo14Title, "Overcommit and commit accounting", "オーバーコミットとコミット量"},
    {Msg::Demo14Text,
     "By default (vm.overcommit_memory=0) Linux promises more memory than it has: a large private mapping "
     "succeeds, and the OOM killer settles the bill later. Mode 2 counts every private writable mapping in "
     "Committed_AS and refuses, with ENOMEM, one that would pass CommitLimit: swap plus vm.overcommit_ratio "
     "percent of RAM.",
     "既定（vm.overcommit_memory=0）の Linux は持っている以上のメモリを約束する。大きな private "
     "の割り当ても成功し、つけは後で OOM キラーが払う。モード 2 は書き込み可能な private の割り当てをすべて "
     "Committed_AS に数え、CommitLimit（スワップと RAM の vm.overcommit_ratio パーセントの和）を超えるものを "
     "ENOMEM で断る。"},
    {Msg::Demo14Mode2, "mode 2:", "モード 2："},
    {Msg::Demo15Title, "Huge pages and TLB reach", "ヒュージページと TLB の届く範囲"},
    {Msg::Demo15Text,
     "A TLB entry maps one page. With 4 KiB pages this machine's 4096 entries reach 16 MiB, so going over 64 "
     "MiB again misses on every page. A 2 MiB transparent huge page takes one entry for 512 pages: the same "
     "64 MiB needs 32 entries.",
     "TLB のエントリは 1 ページを対応づける。4 KiB ページなら、このマシンの 4096 エントリで届くのは 16 MiB "
     "なので、64 MiB をもう一度たどると毎ページでミスする。2 MiB の透過的ヒュージページは 512 ページ分を 1 "
     "エントリで済ませ、同じ 64 MiB が 32 エントリで足りる。"},
    {Msg::Demo15Small, "64 MiB in 4 KiB pages, the second pass: TLB misses",
     "4 KiB ページの 64 MiB、2 回目：TLB ミス"},
    {Msg::Demo15Huge, "64 MiB in huge pages, the second pass: TLB misses",
     "ヒュージページの 64 MiB、2 回目：TLB ミス"},
    {Msg::Demo16Title, "Fragmentation and compaction", "断片化とコンパクション"},
    {Msg::Demo16Text,
     "Free memory can be plentiful yet in pieces. Here one page of each 2 MiB block stays in use, so no free "
     "block of order 9 is left and a huge page cannot be had. physmap draws every frame (a dot is a free "
     "one); buddyinfo counts the free blocks.",
     "空きメモリが十分あっても細切れのことがある。ここでは 2 MiB のブロックごとに 1 "
     "ページだけ使われたまま残るので、オーダー 9 の空きブロックがなくなり、ヒュージページが取れない。physmap "
     "はフレームを一つずつ描き（点が空き）、buddyinfo は空きブロックを数える。"},
    {Msg::Demo16Compact,
     "Compaction moves the pages in use to one end of the zone and frees whole blocks at the other: now the "
     "huge page can be had.",
     "コンパクションは使用中のページをゾーンの一方の端へ移し、反対側にまとまったブロックを空ける。これでヒュ"
     "ージページが取れる。"},
    {Msg::Demo17Title, "The slab allocator", "スラブ・アロケータ"},
    {Msg::Demo17Text,
     "The kernel's own small objects, a VMA, an mm_struct, a task, come from slab caches: pages cut into "
     "objects of one size, so that a 152-byte vm_area_struct does not take a page. slabinfo shows each "
     "cache's objects in use and in all; Slab in meminfo is their pages.",
     "カーネル自身の小さなオブジェクト（VMA、mm_"
     "struct、タスク）はスラブ・キャッシュから取られる。ページを同じ大きさのオブジェクトに切り分けるので、152"
     " バイトの vm_area_struct が 1 ページを占めることはない。slabinfo "
     "はキャッシュごとに使用中と全体のオブジェクト数を示し、meminfo の Slab はそのページの量。"},
    {Msg::Demo17After, "after four processes with three mappings each: Slab grew by",
     "3 つずつ割り当てたプロセス 4 つの後：Slab の増加"},
    {Msg::Demo18Title, "The kernel's half of the address space", "アドレス空間のカーネル側の半分"},
    {Msg::Demo18Text,
     "The upper half of every address space belongs to the kernel. Linux on RISC-V maps all of physical "
     "memory there at once (the direct map, or straight map), so the kernel reaches any frame by adding an "
     "offset; the struct pages sit in the vmemmap, with the vmalloc space and the modules beside them.",
     "すべてのアドレス空間の上半分はカーネルのもの。RISC-V の Linux "
     "はそこに物理メモリ全体を一度に対応づける（ダイレクトマップ、ストレートマップ）。カーネルはオフセットを"
     "足すだけでどのフレームにも届く。struct page は vmemmap にあり、その隣に vmalloc "
     "領域とモジュールがある。"},
    {Msg::Demo18Highmem,
     "A 32-bit kernel had only 1 GiB of addresses for itself, so it could map at most about 896 MiB of RAM "
     "directly; the rest, HIGHMEM, had to be mapped in and out a page at a time. A 64-bit kernel has "
     "terabytes of addresses and maps everything: it needs no HIGHMEM.",
     "32 ビットのカーネルが自分で使えるアドレスは 1 GiB しかなく、直接対応づけられる RAM は約 896 MiB "
     "が上限だった。残りの HIGHMEM は 1 ページずつ対応づけては外さなければならなかった。64 "
     "ビットのカーネルにはテラバイト単位のアドレスがあり、すべてを対応づけるので HIGHMEM はいらない。"},
    {Msg::Demo19Title, "Memory cgroups", "メモリ cgroup"},
    {Msg::Demo19Text,
     "A memory cgroup limits a group of processes, whatever the machine has. batch gets memory.max=8M: its "
     "processes reclaim within the group, and when nothing is left to reclaim the group's own OOM killer "
     "acts. The process outside is untouched.",
     "メモリ cgroup は、マシン全体の量に関係なくプロセスの集まりを制限する。batch には memory.max=8M "
     "を与える。その中のプロセスはグループの中で回収し、回収するものがなくなるとグループ自身の OOM "
     "キラーが働く。外のプロセスには影響しない。"},
    {Msg::Demo20Title, "The buffer cache: Buffers and Cached", "バッファキャッシュ：Buffers と Cached"},
    {Msg::Demo20Text,
     "A block device has a page cache of its own, the buffer cache: reading /dev/vda, as dd does, fills it, "
     "and meminfo counts it as Buffers. The pages of files are the page cache proper and count as Cached; "
     "free's buff/cache is both. Both are written back and reclaimed alike.",
     "ブロックデバイスにも専用のページキャッシュ、バッファキャッシュがある。dd のように /dev/vda "
     "を読むとそこが埋まり、meminfo では Buffers に数えられる。ファイルのページは本来のページキャッシュで "
     "Cached に数えられ、free の buff/cache は両方の和。どちらも同じように書き戻され、回収される。"},
    {Msg::Demo20Device, "reading 8 MiB of /dev/vda, as dd does:", "dd のように /dev/vda を 8 MiB 読む："},
    {Msg::Demo20File, "reading an 8 MiB file:", "8 MiB のファイルを読む："},
};

constexpr bool in_order()
{
    for (size_t i = 0; i < std::size(CATALOGUE); ++i)
        if (static_cast<size_t>(CATALOGUE[i].msg) != i)
            return false;
    return std::size(CATALOGUE) == static_cast<size_t>(Msg::Count);
}
static_assert(in_order(), "the catalogue has one entry per message, in the enum's order");

Lang g_lang = Lang::En; // main() sets it from --lang or the locale

} // namespace

Lang lang_from_locale()
{
    for (const char* name : {"LC_ALL", "LC_MESSAGES", "LANG"}) {
        const char* value = std::getenv(name);
        if (value && *value)
            return std::string_view(value).substr(0, 2) == "ja" ? Lang::Ja : Lang::En;
    }
    return Lang::En;
}

std::optional<Lang> parse_lang(std::string_view name)
{
    if (name == "en")
        return Lang::En;
    if (name == "ja")
        return Lang::Ja;
    return std::nullopt;
}

void set_lang(Lang lang)
{
    g_lang = lang;
}

Lang lang()
{
    return g_lang;
}

const char* raw(Lang lang, Msg msg)
{
    const Entry& e = CATALOGUE[static_cast<size_t>(msg)];
    return lang == Lang::Ja ? e.ja : e.en;
}

std::string say_in(Lang lang, Msg msg, const std::vector<std::string>& args)
{
    std::string_view text = raw(lang, msg);
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '{' && i + 2 < text.size() && text[i + 2] == '}' && text[i + 1] >= '0' &&
            text[i + 1] <= '9') {
            size_t n = static_cast<size_t>(text[i + 1] - '0');
            out += n < args.size() ? args[n] : std::string();
            i += 2;
            continue;
        }
        out += text[i];
    }
    return out;
}

std::string say(Msg msg, const std::vector<std::string>& args)
{
    return say_in(g_lang, msg, args);
}

size_t display_width(std::string_view text)
{
    size_t width = 0;
    for (size_t i = 0; i < text.size();) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        unsigned len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        char32_t cp = c < 0x80 ? c : c < 0xE0 ? c & 0x1F : c < 0xF0 ? c & 0x0F : c & 0x07;
        for (unsigned k = 1; k < len && i + k < text.size(); ++k)
            cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
        i += len;
        // Wide: CJK punctuation, kana, ideographs, Hangul, full-width forms.
        bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                    (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                    (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
                    (cp >= 0xFFE0 && cp <= 0xFFE6);
        width += wide ? 2 : 1;
    }
    return width;
}

std::string pad(std::string_view text, size_t width)
{
    std::string out(text);
    for (size_t w = display_width(text); w < width; ++w)
        out += ' ';
    return out;
}

std::string columns(const std::vector<std::vector<std::string>>& rows, size_t right_from)
{
    std::vector<size_t> width;
    for (const auto& row : rows)
        for (size_t i = 0; i < row.size(); ++i) {
            width.resize(std::max(width.size(), row.size()));
            width[i] = std::max(width[i], display_width(row[i]));
        }
    std::string out;
    for (const auto& row : rows) {
        std::string line = " ";
        for (size_t i = 0; i < row.size(); ++i) {
            line += ' ';
            line += i >= right_from ? std::string(width[i] - display_width(row[i]), ' ') + row[i]
                                    : pad(row[i], width[i]);
            line += ' ';
        }
        while (!line.empty() && line.back() == ' ')
            line.pop_back();
        out += line + "\n";
    }
    return out;
}

std::vector<std::string> parts(const std::string& message)
{
    std::vector<std::string> out;
    for (size_t start = 0;;) {
        size_t bar = message.find('|', start);
        out.push_back(message.substr(start, bar == std::string::npos ? std::string::npos : bar - start));
        if (bar == std::string::npos)
            return out;
        start = bar + 1;
    }
}

} // namespace kioku::text
