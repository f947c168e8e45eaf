/*
 * guests/events.S - the exception entries of the event workloads
 * (guests/events.c).  Entry vecN is installed as vector N: one without an
 * error code of its own pushes a 0 in its place, then every entry pushes
 * its vector, saves the caller-saved registers and calls
 * exc_handler(frame), which may move the frame's RIP; the entry returns
 * with iretq past the vector and the error code.
 */
#include "regs.inc"
	.macro VEC n, ec
	.globl vec\n
vec\n:
	.if \ec == 0
	pushq $0
	.endif
	pushq $\n
	jmp vec_common
	.endm

	.text
	VEC 0, 0
	VEC 3, 0
	VEC 6, 0
	VEC 8, 1
	VEC 13, 1
	VEC 14, 1
	VEC 128, 0

vec_common:
	SAVE_CALLER_SAVED
	movq %rsp, %rdi
	call exc_handler
	RESTORE_CALLER_SAVED
	addq $16, %rsp
	iretq
