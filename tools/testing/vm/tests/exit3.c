// SPDX-License-Identifier: GPL-2.0
/*
 * vmrun.sh exec test: write every byte value 0..255 to stdout, 64 times
 * (16 KiB, which must arrive unchanged), and exit 3.
 */
#include <stdio.h>

int main(void)
{
	int i, b;

	for (i = 0; i < 64; i++)
		for (b = 0; b < 256; b++)
			putchar(b);
	return 3;
}
