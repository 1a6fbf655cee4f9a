;; Gas vector (wasm-gas.json, wasm_gas_loop_branch_call): sums i*i for i = 0, 1, 2 in a
;; loop that tests its exit at the top (br_if out of a block) and jumps back with br,
;; squaring through a call, then stores the sum (5) at slot 0.
(module
  (import "env" "storage_write" (func $storage_write (param i32 i32)))
  (memory (export "memory") 1)
  (func $sq (param i32) (result i32)
    (i32.mul (local.get 0) (local.get 0)))
  ;; 0..32: the key (slot 0); 32..64: the value, the sum in its last byte.
  (func (export "call") (local $i i32) (local $acc i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (i32.const 3)))
        (local.set $acc (i32.add (local.get $acc) (call $sq (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (i32.store8 (i32.const 63) (local.get $acc))
    (call $storage_write (i32.const 0) (i32.const 32))))
