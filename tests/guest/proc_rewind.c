// A /proc file kept open and read again from the start shows the state of now, as seq_file
// renders it again after a rewind (the mm selftests keep /proc/self/maps open this way).
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
static int count_lines(FILE* f){ char l[512]; int n=0; rewind(f); while(fgets(l,sizeof l,f)) n++; return n; }
int main(void){
  FILE* maps = fopen("/proc/self/maps","r");
  FILE* later = fopen("/proc/self/maps","r"); // opened now, first read after the mappings change
  int before = count_lines(maps);
  char* a = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
  char* b = mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
  int after = count_lines(maps);
  printf("a rewound /proc/self/maps shows new mappings: %d\n", after > before);
  printf("one opened before them shows them at its first read: %d\n", count_lines(later) == after);
  munmap(a, 4096); munmap(b, 4096);
  printf("and their removal: %d\n", count_lines(maps) == before);
  FILE* st = fopen("/proc/self/statm","r");
  long s1, s2; fscanf(st, "%ld", &s1);
  char* big = mmap(NULL, 64<<20, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
  rewind(st); fscanf(st, "%ld", &s2);
  printf("statm size grows by 64 MiB after a rewind: %d\n", s2 - s1 == (64<<20)/4096);
  munmap(big, 64<<20);
  return 0; }
