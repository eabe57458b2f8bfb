/* main.c - STUB */
#include <stdio.h>
int main(void) { puts("drover"); return 0; }
