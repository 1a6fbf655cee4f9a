//! Shrinking a case while a caller's predicate (its divergence) still holds: accounts dropped,
//! storage cleared, code and calldata cut, authorizations and access lists removed. Every
//! candidate is still a well-formed state test; the caller decides whether it still diverges.

use serde_json::Value;

/// At most this many candidates are tried.
pub const MAX_TRIES: usize = 400;

fn test_mut(case: &mut Value) -> Option<&mut Value> {
    case.as_object_mut()?.values_mut().next()
}

fn hex_bytes(v: &Value) -> Vec<u8> {
    v.as_str().and_then(|s| hex::decode(s.trim_start_matches("0x")).ok()).unwrap_or_default()
}

fn cut(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let n = bytes.len();
    if n == 0 {
        return out;
    }
    let mut chunk = n.div_ceil(2);
    while chunk >= 1 {
        let mut start = 0;
        while start < n {
            let end = (start + chunk).min(n);
            out.push([&bytes[..start], &bytes[end..]].concat());
            start += chunk;
        }
        if chunk == 1 {
            break;
        }
        chunk /= 2;
        if out.len() > 64 {
            break;
        }
    }
    out
}

/// Smaller variants of `case`, coarsest first.
pub fn candidates(case: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    let mut base = case.clone();
    let Some(test) = test_mut(&mut base) else { return out };
    let sender = test["transaction"]["sender"].as_str().unwrap_or("").to_string();
    let to = test["transaction"]["to"].as_str().unwrap_or("").to_string();
    let addresses: Vec<String> = test["pre"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
    let snapshot = base.clone();
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut c = snapshot.clone();
        if let Some(t) = test_mut(&mut c) {
            f(t);
        }
        c
    };
    for a in &addresses {
        if *a != sender && *a != to {
            out.push(edit(&|t| {
                t["pre"].as_object_mut().unwrap().remove(a);
            }));
        }
    }
    if snapshot
        .as_object()
        .and_then(|m| m.values().next())
        .is_some_and(|t| t["transaction"].get("authorizationList").is_some())
    {
        out.push(edit(&|t| {
            if let Some(l) = t["transaction"]["authorizationList"].as_array_mut() {
                if l.len() > 1 {
                    l.pop();
                }
            }
        }));
    }
    out.push(edit(&|t| {
        if let Some(l) = t["transaction"].get_mut("accessLists") {
            *l = serde_json::json!([[]]);
        }
    }));
    for a in &addresses {
        out.push(edit(&|t| {
            t["pre"][a.as_str()]["storage"] = serde_json::json!({});
        }));
    }
    for a in &addresses {
        let code = hex_bytes(&snapshot.as_object().unwrap().values().next().unwrap()["pre"][a.as_str()]["code"]);
        for smaller in cut(&code) {
            out.push(edit(&|t| {
                t["pre"][a.as_str()]["code"] = Value::String(format!("0x{}", hex::encode(&smaller)));
            }));
        }
    }
    let data = hex_bytes(&snapshot.as_object().unwrap().values().next().unwrap()["transaction"]["data"][0]);
    for smaller in cut(&data) {
        out.push(edit(&|t| {
            t["transaction"]["data"][0] = Value::String(format!("0x{}", hex::encode(&smaller)));
        }));
    }
    out.retain(|c| c != case);
    out
}

/// Shrinks `case` while `holds` stays true (greedy, restarting after each success, at most
/// [`MAX_TRIES`] candidates tried); the smallest case found.
pub fn minimize(case: &Value, holds: &dyn Fn(&Value) -> bool) -> Value {
    let mut best = case.clone();
    let mut tries = 0;
    'outer: loop {
        for c in candidates(&best) {
            if tries >= MAX_TRIES {
                break 'outer;
            }
            tries += 1;
            if holds(&c) {
                best = c;
                continue 'outer;
            }
        }
        break;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrinks_to_what_the_predicate_needs() {
        let case = crate::case(7);
        let test = case.as_object().unwrap().values().next().unwrap();
        let accounts = test["pre"].as_object().unwrap().len();
        // "Diverges" while contract 0xcc..00 still has a byte of code: everything else goes.
        let needs = |c: &Value| {
            let t = c.as_object().unwrap().values().next().unwrap();
            t["pre"]["0xcccccccccccccccccccccccccccccccccccc0000"]["code"].as_str().is_some_and(|s| s.len() > 2)
        };
        assert!(needs(&case));
        let small = minimize(&case, &needs);
        let t = small.as_object().unwrap().values().next().unwrap();
        assert_eq!(t["pre"]["0xcccccccccccccccccccccccccccccccccccc0000"]["code"].as_str().unwrap().len(), 4);
        assert!(t["pre"].as_object().unwrap().len() < accounts);
    }
}
