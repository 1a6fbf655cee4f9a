;; Writes slot 0 = 1, calls the WASM contract 0x…0a0004 (which writes and reverts), then stores
;; slot 1 = 0x10 + the call's status and slot 2 = the size of the revert data.
(module
  (import "env" "call" (func $call (param i32 i64 i32 i32 i32 i32) (result i32)))
  (import "env" "returndata_size" (func $returndata_size (result i32)))
  (import "env" "storage_write" (func $storage_write (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\0a\00\04")
  (func (export "call")
    (local $status i32)
    (i32.store8 (i32.const 127) (i32.const 1))
    (call $storage_write (i32.const 64) (i32.const 96))
    (local.set $status
      (call $call (i32.const 0) (i64.const -1) (i32.const 0) (i32.const 32) (i32.const 0) (i32.const 0)))
    (i32.store8 (i32.const 127) (i32.add (local.get $status) (i32.const 0x10)))
    (i32.store8 (i32.const 95) (i32.const 1))
    (call $storage_write (i32.const 64) (i32.const 96))
    (i32.store8 (i32.const 127) (call $returndata_size))
    (i32.store8 (i32.const 95) (i32.const 2))
    (call $storage_write (i32.const 64) (i32.const 96))))
