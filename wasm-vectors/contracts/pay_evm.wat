;; Calls the EVM contract 0x…0e0007 with 7 wei and the calldata 0xc0ffee.
(module
  (import "env" "call" (func $call (param i32 i64 i32 i32 i32 i32) (result i32)))
  (import "env" "revert" (func $revert (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\0e\00\07")
  (data (i32.const 63) "\07")
  (data (i32.const 64) "\c0\ff\ee")
  (func (export "call")
    ;; Anything but success reverts this frame too.
    (if (call $call (i32.const 0) (i64.const -1) (i32.const 0) (i32.const 32) (i32.const 64) (i32.const 3))
      (then (call $revert (i32.const 0) (i32.const 0))))))
