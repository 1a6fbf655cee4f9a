//! `cargo run --release -p eravm-differential --example seed -- <program seed>`: runs one
//! program of a campaign (the seed a report names) and, on a divergence, prints it, the last
//! steps of both traces of the minimized program, and that program as a vector.
fn main() {
    let s: u64 = std::env::args().nth(1).expect("a program seed").parse().expect("a number");
    let case = eravm_differential::generate::program(s);
    match eravm_differential::compare_caught(&case, None) {
        Ok(c) => println!("agree: {} steps, {:?}", c.steps, c.status),
        Err(d) => {
            println!("{d}");
            let small = eravm_differential::minimize::minimize(&case, d.kind, None);
            let d2 = eravm_differential::compare_caught(&small, None).unwrap_err();
            println!("minimized: {d2}");
            tails(&small);
            println!(
                "{}",
                serde_json::to_string_pretty(&eravm_differential::vector::to_json(&small, s, &d2.what)).unwrap()
            );
        }
    }
}

fn tails(case: &eravm_differential::Case) {
    let (out, _, _, ours) = eravm_differential::compare::run_ours(case);
    let theirs = eravm_differential::compare::run_theirs(case);
    let t = theirs.trace.unwrap();
    println!(
        "ours {:?} {} instr; theirs {:?} {} instr",
        out.status, out.instructions, theirs.status, theirs.instructions
    );
    for s in &ours[ours.len().saturating_sub(4)..] {
        println!("ours: {}", eravm_differential::compare::show(s));
    }
    for s in &t[t.len().saturating_sub(4)..] {
        println!(
            "vm2:  {} {} frames {}",
            eravm_differential::compare::show(&eravm_differential::compare::as_ours(s)),
            s.opcode,
            s.callframes
        );
    }
}
