//! A gzipped tar builder for tests, included by the end-to-end tests (`common`) and by the
//! runner's unit tests (`archive.rs`, through `#[path]`).

/// A gzipped tar of `members`, for tests; with `commit`, first the pax global header GitHub's
/// archives carry (`comment=<commit>`, 40 hex digits).
pub fn tarball(members: &[(&str, &[u8])], commit: Option<&str>) -> Vec<u8> {
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    if let Some(commit) = commit {
        let comment = format!("52 comment={commit}\n");
        let mut pax = tar::Header::new_ustar();
        pax.set_entry_type(tar::EntryType::XGlobalHeader);
        pax.set_size(comment.len() as u64);
        pax.set_cksum();
        tar.append_data(&mut pax, "pax_global_header", comment.as_bytes()).unwrap();
    }
    for (name, data) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, name, *data).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}
