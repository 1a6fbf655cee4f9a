;; Stores the first calldata word at slot 0 of the account it runs on.
(module
  (import "env" "calldata_copy" (func $calldata_copy (param i32 i32 i32)))
  (import "env" "storage_write" (func $storage_write (param i32 i32)))
  (memory (export "memory") 1)
  ;; 0..32: the key (slot 0); 32..64: the value.
  (func (export "call")
    (call $calldata_copy (i32.const 32) (i32.const 0) (i32.const 32))
    (call $storage_write (i32.const 0) (i32.const 32))))
