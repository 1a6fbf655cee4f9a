//! `reports/index.html`: one self-contained page (no network, no external
//! scripts or fonts) with pass-rate bars per suite, per fork or group and per
//! test folder, and the failing cases with their diffs.
//!
//! The page carries the run's aggregates as JSON in a
//! `<script type="application/json">` block and builds its tables with an
//! inline script that only ever sets `textContent` (no markup from the data).
//! Every number it shows sits in an element with a `data-key` attribute
//! (`state/total`, `state/group/Cancun/passed`, `state/folder/stExample/failed`),
//! which the end-to-end test reads back from a headless Chromium's DOM.

use serde::Serialize;

use super::{fork_order, CaseRecord, Counts, SuiteReport};

/// Failures embedded with their details; the page says how many more there are.
const FAILURES: usize = 500;
/// Characters of one failure's diff embedded in the page.
const DIFF_CHARS: usize = 20_000;

#[derive(Serialize)]
struct PageData<'a> {
    suites: Vec<SuiteData<'a>>,
}

#[derive(Serialize)]
struct SuiteData<'a> {
    suite: &'a str,
    group_label: &'a str,
    counts: Counts,
    expected_failures: usize,
    unexpected_failures: usize,
    wall_time_s: f64,
    groups: Vec<(String, Counts)>,
    folders: Vec<(String, Counts)>,
    failures: Vec<FailureData<'a>>,
    failures_total: usize,
}

#[derive(Serialize)]
struct FailureData<'a> {
    id: &'a str,
    verdict: &'a str,
    error: Option<&'a str>,
    expected_failure: bool,
    detail: String,
}

/// The page for `reports`.
pub fn render(reports: &[&SuiteReport]) -> String {
    let data = PageData { suites: reports.iter().map(|r| suite_data(r)).collect() };
    // `</` cannot close the data block early once escaped as `<\/` (still the same JSON string).
    let json = serde_json::to_string(&data).expect("report data serializes").replace("</", "<\\/");
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Conformance report</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>Conformance report</h1>\n<div id=\"app\"><p>This page needs JavaScript to draw its tables.</p></div>\n\
         <script type=\"application/json\" id=\"report-data\">{json}</script>\n<script>{SCRIPT}</script>\n\
         </body>\n</html>\n"
    )
}

fn suite_data<'a>(r: &'a SuiteReport) -> SuiteData<'a> {
    let mut groups: Vec<(String, Counts)> = r.by_fork().into_iter().collect();
    groups.sort_by_key(|(name, _)| fork_order(name));
    let failing: Vec<&CaseRecord> = r.cases.iter().filter(|c| c.verdict.is_failure()).collect();
    SuiteData {
        suite: &r.suite,
        group_label: r.group_label(),
        counts: r.counts(),
        expected_failures: r.expected_failures,
        unexpected_failures: r.unexpected.len(),
        wall_time_s: r.wall_time.as_secs_f64(),
        groups,
        folders: r.by_folder().into_iter().collect(),
        failures: failing.iter().take(FAILURES).map(|c| failure_data(c)).collect(),
        failures_total: failing.len(),
    }
}

fn failure_data(c: &CaseRecord) -> FailureData<'_> {
    let mut detail = c.mismatch_lines();
    if let Some(diff) = &c.diff {
        match diff.char_indices().nth(DIFF_CHARS) {
            Some((cut, _)) => {
                detail.push_str(&diff[..cut]);
                detail.push_str("\n... (the whole diff is in the suite's JSON report)");
            }
            None => detail.push_str(diff),
        }
    }
    FailureData {
        id: &c.id,
        verdict: c.verdict.word(),
        error: c.error.as_deref(),
        expected_failure: c.expected_failure,
        detail,
    }
}

const STYLE: &str = r#"
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; background: #fff; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { padding: 2px 10px; text-align: right; border-bottom: 1px solid #eee; }
th:first-child, td:first-child { text-align: left; }
.bar { width: 220px; height: 12px; background: #e5e5e5; border-radius: 3px; overflow: hidden; display: inline-block; }
.bar > span { display: block; height: 100%; background: #2e9e44; }
.bar.bad > span { background: #d9822b; }
.fail { color: #b3261e; } .ok { color: #1e7d32; }
details { margin: 0.3em 0; } summary { cursor: pointer; font-family: monospace; }
pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; max-height: 40em; }
"#;

const SCRIPT: &str = r#"
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var app = document.getElementById('app');
  app.textContent = '';
  function el(tag, text, attrs) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (attrs) { for (var k in attrs) { e.setAttribute(k, attrs[k]); } }
    return e;
  }
  function rate(c) {
    var run = c.total - c.skipped;
    return run === 0 ? null : c.passed / run;
  }
  function bar(c) {
    var r = rate(c);
    var b = el('span', null, { 'class': 'bar' + (r !== null && r < 1 ? ' bad' : '') });
    var fill = el('span');
    fill.style.width = (r === null ? 0 : r * 100).toFixed(1) + '%';
    b.appendChild(fill);
    return b;
  }
  var FIELDS = ['total', 'passed', 'failed', 'skipped', 'crashed', 'wrong_exception'];
  var BAD = { failed: true, crashed: true, wrong_exception: true };
  function countsTable(title, rows, prefix) {
    var t = el('table');
    var head = el('tr');
    [title].concat(FIELDS.map(function (f) { return f.replace('_', ' '); })).concat(['pass rate', ''])
      .forEach(function (h) { head.appendChild(el('th', h)); });
    t.appendChild(head);
    rows.forEach(function (row) {
      var name = row[0], c = row[1];
      var tr = el('tr');
      tr.appendChild(el('td', name));
      FIELDS.forEach(function (f) {
        tr.appendChild(el('td', c[f], { 'data-key': prefix + '/' + name + '/' + f, 'class': BAD[f] && c[f] > 0 ? 'fail' : '' }));
      });
      var r = rate(c);
      tr.appendChild(el('td', r === null ? 'n/a' : (r * 100).toFixed(1) + ' %'));
      var cell = el('td');
      cell.appendChild(bar(c));
      tr.appendChild(cell);
      t.appendChild(tr);
    });
    return t;
  }
  data.suites.forEach(function (s) {
    var sec = el('section', null, { 'id': 'suite-' + s.suite });
    sec.appendChild(el('h2', s.suite));
    var p = el('p');
    var c = s.counts;
    p.appendChild(el('span', c.total, { 'data-key': s.suite + '/total' }));
    p.appendChild(document.createTextNode(' cases: '));
    p.appendChild(el('span', c.passed, { 'data-key': s.suite + '/passed', 'class': 'ok' }));
    p.appendChild(document.createTextNode(' passed, '));
    p.appendChild(el('span', c.failed, { 'data-key': s.suite + '/failed', 'class': c.failed ? 'fail' : '' }));
    p.appendChild(document.createTextNode(' failed, '));
    p.appendChild(el('span', c.skipped, { 'data-key': s.suite + '/skipped' }));
    p.appendChild(document.createTextNode(' skipped, '));
    p.appendChild(el('span', c.crashed, { 'data-key': s.suite + '/crashed', 'class': c.crashed ? 'fail' : '' }));
    p.appendChild(document.createTextNode(' crashed, '));
    p.appendChild(el('span', c.wrong_exception, { 'data-key': s.suite + '/wrong_exception', 'class': c.wrong_exception ? 'fail' : '' }));
    p.appendChild(document.createTextNode(' wrong exception; ' + s.expected_failures + ' expected failures, ' +
      s.unexpected_failures + ' unexpected; ' + s.wall_time_s.toFixed(1) + ' s '));
    p.appendChild(bar(c));
    sec.appendChild(p);
    sec.appendChild(el('h3', 'By ' + s.group_label));
    sec.appendChild(countsTable(s.group_label, s.groups, s.suite + '/group'));
    var folders = el('details');
    folders.appendChild(el('summary', 'By test folder (' + s.folders.length + ')'));
    folders.appendChild(countsTable('folder', s.folders, s.suite + '/folder'));
    sec.appendChild(folders);
    sec.appendChild(el('h3', 'Failures (' + s.failures_total + ')', { 'data-key': s.suite + '/failures' }));
    if (s.failures_total === 0) { sec.appendChild(el('p', 'None.')); }
    s.failures.forEach(function (f) {
      var d = el('details', null, { 'class': 'failure' });
      var label = { crash: 'CRASH ', wrong_exception: 'WRONG EXCEPTION ' }[f.verdict] || 'FAIL ';
      label += f.id + (f.expected_failure ? ' (known, in the baseline)' : '');
      d.appendChild(el('summary', label));
      d.appendChild(el('p', f.error || '(no message)'));
      if (f.detail) { d.appendChild(el('pre', f.detail)); }
      sec.appendChild(d);
    });
    if (s.failures_total > s.failures.length) {
      sec.appendChild(el('p', '... and ' + (s.failures_total - s.failures.length) + ' more in ' + s.suite + '.json'));
    }
    app.appendChild(sec);
  });
})();
"#;

#[cfg(test)]
mod tests {
    use super::super::Verdict;
    use super::*;
    use std::time::Duration;

    #[test]
    fn page_is_self_contained_and_carries_the_counts() {
        let mut fail = CaseRecord::new(
            "st/a.json::a::Cancun::d0:g0:v0".into(),
            Some("Cancun".into()),
            Verdict::Fail,
            Some("</script><b>x</b>".into()),
        );
        fail.diff = Some("- slot 0x00: 0x01".into());
        let pass = CaseRecord::new("st/a.json::a::Berlin::d0:g0:v0".into(), Some("Berlin".into()), Verdict::Pass, None);
        let report = SuiteReport::new("state", vec![fail, pass], Duration::from_secs(1));
        let page = render(&[&report]);
        assert!(!page.contains("src=") && !page.contains("href="), "no external resources");
        assert_eq!(page.matches("</script>").count(), 2, "data cannot close its script block");
        let start = page.find("id=\"report-data\">").unwrap() + "id=\"report-data\">".len();
        let end = start + page[start..].find("</script>").unwrap();
        let data: serde_json::Value = serde_json::from_str(&page[start..end]).unwrap();
        let suite = &data["suites"][0];
        assert_eq!(suite["counts"]["total"], 2);
        assert_eq!(suite["groups"][0][0], "Berlin");
        assert_eq!(suite["folders"][0][0], "st");
        assert_eq!(suite["failures"][0]["error"], "</script><b>x</b>");
    }
}
