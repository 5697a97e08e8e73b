;; Dropout masks from a keyed counter hash, four elements at a time (WebAssembly SIMD): element i
;; is kept, with value `keep`, when h(i) ≥ threshold (unsigned), else 0, where
;;   h(i) = mix(mix(i ⊕ k0) ⊕ k1),  mix = Wellons' lowbias32:
;;   x ⊕= x≫16; x ·= 0x21f0aaad; x ⊕= x≫15; x ·= 0x735a2d97; x ⊕= x≫15  (mod 2³²).
;; Each element depends only on (key, i), so a mask can be made in chunks or in parallel and a
;; longer mask starts with a shorter one. masks.ts holds the same formula in JavaScript (the
;; reference, and float64 masks); a test checks they agree. Built by scripts/build-wasm.mjs.
(module
  (memory (export "memory") 1)

  (func $mix (param $x i32) (result i32)
    (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 16))))
    (local.set $x (i32.mul (local.get $x) (i32.const 0x21f0aaad)))
    (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 15))))
    (local.set $x (i32.mul (local.get $x) (i32.const 0x735a2d97)))
    (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 15))))

  ;; Writes elements first .. first+n-1 of the mask as float32 at byte offset out (16-aligned).
  (func (export "mask")
    (param $out i32) (param $first i32) (param $n i32) (param $k0 i32) (param $k1 i32)
    (param $threshold i32) (param $keep f32)
    (local $at i32) (local $end4 i32) (local $end i32) (local $i i32)
    (local $idx v128) (local $vk0 v128) (local $vk1 v128) (local $vthr v128) (local $vkeep v128)
    (local $x v128) (local $vm1 v128) (local $vm2 v128)
    (local.set $vm1 (i32x4.splat (i32.const 0x21f0aaad)))
    (local.set $vm2 (i32x4.splat (i32.const 0x735a2d97)))
    (local.set $vk0 (i32x4.splat (local.get $k0)))
    (local.set $vk1 (i32x4.splat (local.get $k1)))
    (local.set $vthr (i32x4.splat (local.get $threshold)))
    (local.set $vkeep (f32x4.splat (local.get $keep)))
    (local.set $idx (i32x4.add (i32x4.splat (local.get $first)) (v128.const i32x4 0 1 2 3)))
    (local.set $at (local.get $out))
    (local.set $end4 (i32.add (local.get $out) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (block $vdone
      (loop $vnext
        (br_if $vdone (i32.ge_u (local.get $at) (local.get $end4)))
        ;; the vector form of $mix, written out twice: V8 does not inline WebAssembly calls
        (local.set $x (v128.xor (local.get $idx) (local.get $vk0)))
        (local.set $x (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 16))))
        (local.set $x (i32x4.mul (local.get $x) (local.get $vm1)))
        (local.set $x (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 15))))
        (local.set $x (i32x4.mul (local.get $x) (local.get $vm2)))
        (local.set $x (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 15))))
        (local.set $x (v128.xor (local.get $x) (local.get $vk1)))
        (local.set $x (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 16))))
        (local.set $x (i32x4.mul (local.get $x) (local.get $vm1)))
        (local.set $x (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 15))))
        (local.set $x (i32x4.mul (local.get $x) (local.get $vm2)))
        (local.set $x (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 15))))
        ;; a kept lane's all-ones compare mask selects keep's bits; a dropped lane gives +0
        (v128.store (local.get $at)
          (v128.and (local.get $vkeep) (i32x4.ge_u (local.get $x) (local.get $vthr))))
        (local.set $idx (i32x4.add (local.get $idx) (v128.const i32x4 4 4 4 4)))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $vnext)))
    (local.set $i (i32.add (local.get $first) (i32.and (local.get $n) (i32.const -4))))
    (block $sdone
      (loop $snext
        (br_if $sdone (i32.ge_u (local.get $at) (local.get $end)))
        (f32.store (local.get $at)
          (select (local.get $keep) (f32.const 0)
            (i32.ge_u
              (call $mix (i32.xor (call $mix (i32.xor (local.get $i) (local.get $k0))) (local.get $k1)))
              (local.get $threshold))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (local.set $at (i32.add (local.get $at) (i32.const 4)))
        (br $snext)))))
