//! Corpus regression: the vetting engine's detection and false-positive rates on the dev split
//! of `vet-corpus/` must not fall below the floors set from the figures when this test was
//! written (`cargo run --release -p mcp-sandbox-runtime --example vet_eval` prints them). Prints
//! the per-category table. The holdout split is not judged here: tuning to it measures nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mcp_sandbox_runtime::vet::corpus::{ALL, ALL_BENIGN, HARD_NEGATIVES, Tally, vet_entry};
use serde_json::Value;

/// Dev detection (verdict not clean) over every poisoned entry, in percent, at least
/// (97.2 % when set).
const DETECTION_FLOOR: f64 = 95.0;
/// Dev detection of each category, at least (the lowest was 90.0 %, purpose-mismatch, 10
/// entries: one miss is 10 points).
const CATEGORY_FLOOR: f64 = 80.0;
/// Dev false positives (verdict not clean) over all benign entries and over hard negatives, in
/// percent, at most (0.0 % when set).
const FALSE_POSITIVE_CEILING: f64 = 2.0;

fn load(file: &str) -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../vet-corpus/").to_string() + file;
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn dev_split_rates_do_not_regress() {
    let mut tally = Tally::default();
    for e in load("poisoned.jsonl") {
        tally.poisoned(&e, vet_entry(&e).verdict);
    }
    for e in load("benign.jsonl") {
        tally.benign(&e, vet_entry(&e).verdict);
    }
    let table = tally.table("dev");
    println!("{table}");
    let all = tally.detection("dev", ALL);
    assert!(all.n >= 100, "the dev split has {} poisoned entries: is vet-corpus/ complete?\n{table}", all.n);
    assert!(
        all.flagged_pct() >= DETECTION_FLOOR,
        "dev detection {:.1} % < {DETECTION_FLOOR} %\n{table}",
        all.flagged_pct()
    );
    for ((split, category), n) in &tally.detection {
        if split == "dev" {
            assert!(
                n.flagged_pct() >= CATEGORY_FLOOR,
                "dev detection of {category} {:.1} % < {CATEGORY_FLOOR} %\n{table}",
                n.flagged_pct()
            );
        }
    }
    for row in [ALL_BENIGN, HARD_NEGATIVES] {
        let fp = tally.false_positive("dev", row);
        assert!(fp.n >= 50, "{row}: {} entries\n{table}", fp.n);
        assert!(
            fp.flagged_pct() <= FALSE_POSITIVE_CEILING,
            "dev false positives ({row}) {:.1} % > {FALSE_POSITIVE_CEILING} %\n{table}",
            fp.flagged_pct()
        );
    }
}

/// dev14 (`vet-corpus/dev14-*.jsonl`, a probe set built after the engine, see
/// `vet-corpus/build4/README.md`): its tuned-on half `dev14`, overall detection at least
/// (98.4 % when set: one quoted definition missed).
const DEV14_DETECTION_FLOOR: f64 = 95.0;
/// The `dev14` half's false positives, at most (0.0 % when set).
const DEV14_FALSE_POSITIVE_CEILING: f64 = 2.0;
/// Its `dev14-unseen` half, never inspected entry by entry: detection at least (78.6 % when
/// set, 80.4 % after the dev15 round: the honest figure for unseen wording) and false positives
/// at most (3.6 %).
const UNSEEN_DETECTION_FLOOR: f64 = 75.0;
const UNSEEN_FALSE_POSITIVE_CEILING: f64 = 5.0;

#[test]
fn dev14_rates_do_not_regress() {
    let mut tally = Tally::default();
    for e in load("dev14-poisoned.jsonl") {
        tally.poisoned(&e, vet_entry(&e).verdict);
    }
    for e in load("dev14-benign.jsonl") {
        tally.benign(&e, vet_entry(&e).verdict);
    }
    for (split, detection_floor, fp_ceiling) in [
        ("dev14", DEV14_DETECTION_FLOOR, DEV14_FALSE_POSITIVE_CEILING),
        ("dev14-unseen", UNSEEN_DETECTION_FLOOR, UNSEEN_FALSE_POSITIVE_CEILING),
    ] {
        let table = tally.table(split);
        println!("{table}");
        let all = tally.detection(split, ALL);
        assert!(all.n >= 50, "{split}: {} poisoned entries: is vet-corpus/ complete?\n{table}", all.n);
        assert!(
            all.flagged_pct() >= detection_floor,
            "{split} detection {:.1} % < {detection_floor} %\n{table}",
            all.flagged_pct()
        );
        let fp = tally.false_positive(split, ALL_BENIGN);
        assert!(fp.n >= 200, "{split}: {} benign entries\n{table}", fp.n);
        assert!(
            fp.flagged_pct() <= fp_ceiling,
            "{split} false positives {:.1} % > {fp_ceiling} %\n{table}",
            fp.flagged_pct()
        );
    }
}
