//! The EEST tarball reader (runner/src/archive.rs, compiled in by path): a `.tar.gz` streamed
//! member by member. Byte 0 chooses what the rest is: even, the archive's bytes as stored;
//! odd, a tar that the harness gzips first (so the fuzzer reaches the tar layer past the CRC).
//! Must hold: no panic or hang; at most one error item, and it is the last; the count returned
//! is the members sent; every member read is a `state_tests/…/*.json` name.
#![no_main]

use std::io::Write;
use std::sync::mpsc::sync_channel;

use libfuzzer_sys::fuzz_target;

#[path = "../../runner/src/archive.rs"]
#[allow(dead_code)]
mod archive;

fn path() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("fuzz-eest-{}.tar.gz", std::process::id()))
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    if rest.len() > 256 << 10 {
        return;
    }
    let bytes = if mode & 1 == 0 {
        rest.to_vec()
    } else {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(rest).unwrap();
        gz.finish().unwrap()
    };
    let path = path();
    std::fs::write(&path, &bytes).unwrap();
    // Bytes 1 of the mode: a filter that keeps every member, or only every other one by name.
    let picky = mode & 2 != 0;
    let wanted = move |rel: &str| !picky || rel.len().is_multiple_of(2);
    let (tx, rx) = sync_channel(2);
    let items = std::thread::scope(|s| {
        let (path, wanted) = (&path, &wanted);
        // The sender moves into the reader, so the channel closes when it ends.
        let reader = s.spawn(move || archive::stream(path, wanted, &tx));
        let items: Vec<archive::Item> = rx.iter().collect();
        (items, reader.join().expect("the reader thread panicked"))
    });
    let (items, sent) = items;
    let errors = items.iter().filter(|i| i.bytes.is_err()).count();
    let ok = items.len() - errors;
    assert!(errors <= 1, "{errors} error items");
    if errors == 1 {
        assert!(items.last().unwrap().bytes.is_err(), "an error item is not the last");
    }
    assert!(sent == ok || sent == ok + errors, "sent {sent}, items {ok} + {errors} errors");
    for item in items.iter().filter(|i| i.bytes.is_ok()) {
        assert!(item.rel.starts_with("state_tests/") && item.rel.ends_with(".json"), "member {:?}", item.rel);
        assert!(wanted(&item.rel), "an unwanted member {:?} was sent", item.rel);
        assert_eq!(archive::member_name(&item.rel).as_deref(), Some(item.rel.as_str()));
    }
});
