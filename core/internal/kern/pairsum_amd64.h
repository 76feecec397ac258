// PAIRSUM reduces a zmm accumulator holding two entries of the float64
// kernels' 4-lane sums (lanes 0–3 and 4–7) to (l0 + l1) + (l2 + l3) each —
// swap within pairs and add, then swap the 128-bit halves of each 256 and
// add — and stores the two sums at lo and hi (8 bytes each), as the AVX2
// kernels' REDUCE does. Clobbers Z0, Z1. Used by abt512_amd64.s and
// mv64_amd64.s.
#define PAIRSUM(acc, lo, hi) \
	VPERMILPD     $0x55, acc, Z0; \
	VADDPD        Z0, acc, Z0; \
	VSHUFF64X2    $0xB1, Z0, Z0, Z1; \
	VADDPD        Z1, Z0, Z0; \
	VMOVSD        X0, lo; \
	VEXTRACTF64X4 $1, Z0, Y1; \
	VMOVSD        X1, hi
