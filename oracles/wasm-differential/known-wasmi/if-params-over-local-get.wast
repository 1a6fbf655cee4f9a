;; wasmi 2.0.0 loses a `local.get` value that lies on the operand stack below the inputs of an
;; `if` with parameters whose then-arm has a nested block: when the then-arm does not run, the
;; value reads after the `if` as whatever its register held before (it changes from run to run:
;; 0, 4, 223, 25769803786, ... were seen). Here the global must get the parameter (the spec,
;; ee-wasm and wasmtime 51 agree); wasmi stores garbage. Found by the differential (campaign
;; seed 7, three modules: if-params-over-local-get/); the allow-list rule
;; `wasmi-if-params-over-local-get` covers modules with this pattern. Expectations are the spec's.
(module
  (global $g (mut i64) (i64.const 0))
  (global $cond (mut i32) (i32.const 0))
  (export "g" (global $g))
  (func (export "f") (param i64)
    local.get 0          ;; stays on the stack across the if
    i32.const 7          ;; the if's parameter
    global.get $cond     ;; not a constant: wasmi must translate both arms
    if (param i32)
      block
      end
      drop
    else
      drop
    end
    global.set $g))
(assert_return (invoke "f" (i64.const 81985529216486895)))
(assert_return (get "g") (i64.const 81985529216486895))
