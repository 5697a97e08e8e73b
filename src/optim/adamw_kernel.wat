;; AdamW over float32 arrays in this module's memory, four lanes at a time (WebAssembly SIMD).
;; The formula and the order of operations are adamw_host.ts's, which follows torch.optim.AdamW:
;;   g ← g·coef; p ← p·decay; m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
;;   p ← p − stepSize · m / (√v/√bc2 + ε)
;; Every f32 and f32x4 operation rounds to float32 (IEEE 754, no fused multiply-add, subnormals
;; kept), exactly as adamw_host.ts's Math.fround chain does: the results are the same bits.
;; The memory is the caller's (adamw_wasm.ts): a training step's flat parameters and moments may
;; live in it, so that only the gradients pass through. Built into adamw_kernel.wasm by
;; scripts/build-wasm.mjs.
(module
  (import "env" "memory" (memory 1))

  ;; p, m, v, g: byte offsets of n float32 values each (16-byte aligned).
  (func (export "adamw")
    (param $p i32) (param $m i32) (param $v i32) (param $g i32) (param $n i32)
    (param $coef f32) (param $beta1 f32) (param $omb1 f32) (param $beta2 f32) (param $omb2 f32)
    (param $eps f32) (param $decay f32) (param $stepSize f32) (param $sqrtBc2 f32)
    (local $off i32) (local $end4 i32) (local $end i32)
    (local $gi v128) (local $m2 v128) (local $v2 v128) (local $denom v128)
    (local $kcoef v128) (local $kbeta1 v128) (local $komb1 v128) (local $kbeta2 v128) (local $komb2 v128)
    (local $keps v128) (local $kdecay v128) (local $kstep v128) (local $ksqrt v128)
    (local $sg f32) (local $sm f32) (local $sv f32) (local $sd f32)

    (local.set $kcoef (f32x4.splat (local.get $coef)))
    (local.set $kbeta1 (f32x4.splat (local.get $beta1)))
    (local.set $komb1 (f32x4.splat (local.get $omb1)))
    (local.set $kbeta2 (f32x4.splat (local.get $beta2)))
    (local.set $komb2 (f32x4.splat (local.get $omb2)))
    (local.set $keps (f32x4.splat (local.get $eps)))
    (local.set $kdecay (f32x4.splat (local.get $decay)))
    (local.set $kstep (f32x4.splat (local.get $stepSize)))
    (local.set $ksqrt (f32x4.splat (local.get $sqrtBc2)))

    ;; byte lengths: the four-lane part and the whole
    (local.set $end4 (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))

    (block $vdone
      (loop $vloop
        (br_if $vdone (i32.ge_u (local.get $off) (local.get $end4)))
        (local.set $gi (f32x4.mul (v128.load (i32.add (local.get $g) (local.get $off))) (local.get $kcoef)))
        (local.set $m2
          (f32x4.add
            (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $off))) (local.get $kbeta1))
            (f32x4.mul (local.get $gi) (local.get $komb1))))
        (local.set $v2
          (f32x4.add
            (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $off))) (local.get $kbeta2))
            (f32x4.mul (f32x4.mul (local.get $gi) (local.get $gi)) (local.get $komb2))))
        (local.set $denom
          (f32x4.add (f32x4.div (f32x4.sqrt (local.get $v2)) (local.get $ksqrt)) (local.get $keps)))
        (v128.store (i32.add (local.get $p) (local.get $off))
          (f32x4.sub
            (f32x4.mul (v128.load (i32.add (local.get $p) (local.get $off))) (local.get $kdecay))
            (f32x4.mul (f32x4.div (local.get $m2) (local.get $denom)) (local.get $kstep))))
        (v128.store (i32.add (local.get $m) (local.get $off)) (local.get $m2))
        (v128.store (i32.add (local.get $v) (local.get $off)) (local.get $v2))
        (local.set $off (i32.add (local.get $off) (i32.const 16)))
        (br $vloop)))

    ;; the last n mod 4 values, one lane at a time with the same operations
    (block $sdone
      (loop $sloop
        (br_if $sdone (i32.ge_u (local.get $off) (local.get $end)))
        (local.set $sg (f32.mul (f32.load (i32.add (local.get $g) (local.get $off))) (local.get $coef)))
        (local.set $sm
          (f32.add
            (f32.mul (f32.load (i32.add (local.get $m) (local.get $off))) (local.get $beta1))
            (f32.mul (local.get $sg) (local.get $omb1))))
        (local.set $sv
          (f32.add
            (f32.mul (f32.load (i32.add (local.get $v) (local.get $off))) (local.get $beta2))
            (f32.mul (f32.mul (local.get $sg) (local.get $sg)) (local.get $omb2))))
        (local.set $sd
          (f32.add (f32.div (f32.sqrt (local.get $sv)) (local.get $sqrtBc2)) (local.get $eps)))
        (f32.store (i32.add (local.get $p) (local.get $off))
          (f32.sub
            (f32.mul (f32.load (i32.add (local.get $p) (local.get $off))) (local.get $decay))
            (f32.mul (f32.div (local.get $sm) (local.get $sd)) (local.get $stepSize))))
        (f32.store (i32.add (local.get $m) (local.get $off)) (local.get $sm))
        (f32.store (i32.add (local.get $v) (local.get $off)) (local.get $sv))
        (local.set $off (i32.add (local.get $off) (i32.const 4)))
        (br $sloop)))))
