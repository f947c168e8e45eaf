/*
 * guests/start.S - entry and the page-fault entry of the guest workloads.
 *
 * The library starts each vCPU at _start with RDI = its index and RSP at
 * the top of its stack, in 64-bit mode at CPL 0.  main() returns and the
 * vCPU halts.  pf_entry is installed as vector 14 by guests that want to
 * see their page faults: it saves the caller-saved registers, calls
 * pf_handler(frame) and returns with iretq past the error code.
 */
	.section .text.start, "ax"
	.globl _start
_start:
	call main
1:	hlt
	jmp 1b

	.text
	.globl pf_entry
pf_entry:
	pushq %rax
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	movq %rsp, %rdi
	subq $8, %rsp
	call pf_handler
	addq $8, %rsp
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rax
	addq $8, %rsp
	iretq
