;; Constructor (`deploy`): slot 0 = the first word of its input, slot 1 = the deployer.
;; Calls (`call`): return slot 0.
(module
  (import "env" "calldata_copy" (func $calldata_copy (param i32 i32 i32)))
  (import "env" "caller" (func $caller (param i32)))
  (import "env" "storage_read" (func $storage_read (param i32 i32)))
  (import "env" "storage_write" (func $storage_write (param i32 i32)))
  (import "env" "return" (func $return (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "deploy")
    (call $calldata_copy (i32.const 96) (i32.const 0) (i32.const 32))
    (call $storage_write (i32.const 64) (i32.const 96))
    (memory.fill (i32.const 96) (i32.const 0) (i32.const 32))
    (call $caller (i32.const 108))
    (i32.store8 (i32.const 95) (i32.const 1))
    (call $storage_write (i32.const 64) (i32.const 96)))
  (func (export "call")
    (call $storage_read (i32.const 64) (i32.const 96))
    (call $return (i32.const 96) (i32.const 32))))
