;; wasmi 2.0.0 evaluates a `select` whose condition is the `i32.eqz` just before it as if the
;; `eqz` were not there: with 5, `eqz` gives 0 and `select` must pick its second operand (2);
;; wasmi returns 1. Found by the differential (case seed 8363436843302362764 of campaign seed 7,
;; where wasmi trapped on the operand it should not have picked); the allow-list rule
;; `wasmi-select-of-i32-eqz` covers modules with this pattern. The expectations are the spec's
;; (and ee-wasm's), not wasmi's.
(module
  (func (export "d") (param i32) (result i32)
    (select (i32.const 1) (i32.const 2) (i32.eqz (local.get 0)))))
(assert_return (invoke "d" (i32.const 5)) (i32.const 2))
(assert_return (invoke "d" (i32.const 0)) (i32.const 1))
