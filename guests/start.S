/*
 * guests/start.S - entry and the page-fault entry of the guest workloads.
 *
 * The library starts each vCPU at _start with RDI = its index and RSP at
 * the top of its stack, in 64-bit mode at CPL 0.  main() returns and the
 * vCPU halts.  pf_entry is installed as vector 14 by guests that want to
 * see their page faults: it saves the caller-saved registers, calls
 * pf_handler(frame) and returns with iretq past the error code.
 */
#include "regs.inc"
	.section .text.start, "ax"
	.globl _start
_start:
	call main
1:	hlt
	jmp 1b

	.text
	.globl pf_entry
pf_entry:
	SAVE_CALLER_SAVED
	movq %rsp, %rdi
	subq $8, %rsp
	call pf_handler
	addq $8, %rsp
	RESTORE_CALLER_SAVED
	addq $8, %rsp
	iretq
