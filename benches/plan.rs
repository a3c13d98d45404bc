//! Planning cost for generated blueprints of 100 and 1,000 accounts, against an empty
//! organization (everything to create) and against one that already matches (no changes).
//! Each iteration expands the blueprint and plans, as `lz plan` does after discovery. Then
//! the cost of `lz check --assume-empty` on the same blueprints.

/// The allocator `lz` uses, so the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use landing_zone::{Actual, Blueprint, Known, check, expand, plan};

/// A blueprint of `customers` customers in three environments (3 x customers + 2 accounts).
fn blueprint(customers: usize) -> Blueprint {
    let mut yaml = String::from(
        "version: 1\nname: bench\nhome_region: eu-west-3\norganization: { email: \"aws+{account}@bench.example\" }\n\
         accounts: { security: { name: security }, log_archive: { name: log-archive } }\n\
         environments: { dev: { ou: Dev }, preprod: { ou: PreProd }, prod: { ou: Prod } }\n\
         quotas: { accounts_per_organization: 10000 }\ncustomers:\n",
    );
    for n in 0..customers {
        yaml.push_str(&format!(
            "  c{n:04}: {{ environments: [dev, preprod, prod] }}\n"
        ));
    }
    Blueprint::parse("bench.yaml", &yaml).expect("the generated blueprint is valid")
}

/// Ids for every account, as if the organization were complete.
fn known(bp: &Blueprint) -> Known {
    let mut known = Known {
        organization_id: Some("o-bench".to_owned()),
        management_account_id: Some("999999999999".to_owned()),
        root_id: Some("r-bnch".to_owned()),
        ..Known::default()
    };
    for (n, ou) in ["Security", "Dev", "PreProd", "Prod"]
        .into_iter()
        .enumerate()
    {
        known
            .ou_ids
            .insert(ou.to_owned(), format!("ou-bnch-{n:08}"));
    }
    let names = expand(bp, &Known::default())
        .resources
        .into_iter()
        .filter_map(|r| match r.spec.as_ref() {
            landing_zone::desired::Spec::Account(a) => Some(a.name.clone()),
            _ => None,
        });
    for (n, name) in names.enumerate() {
        known
            .account_ids
            .insert(name, format!("{:012}", 100_000 + n));
    }
    known
}

fn planning(c: &mut Criterion) {
    let mut group = c.benchmark_group("expand+plan");
    group.sample_size(20);
    for customers in [33, 166, 333, 1667] {
        let bp = blueprint(customers);
        let accounts = customers * 3 + 2;
        let empty = Actual::empty();
        group.bench_with_input(BenchmarkId::new("empty", accounts), &bp, |b, bp| {
            b.iter(|| plan(&expand(bp, &empty.known()), &empty))
        });
        let ids = known(&bp);
        let equal = Actual::as_if_applied(&expand(&bp, &ids), &ids);
        assert!(!plan(&expand(&bp, &ids), &equal).has_changes());
        group.bench_with_input(BenchmarkId::new("equal", accounts), &bp, |b, bp| {
            b.iter(|| plan(&expand(bp, &equal.known()), &equal))
        });
    }
    group.finish();
}

/// `lz check --assume-empty`: expanding the blueprint with placeholder ids, building the
/// inventory and evaluating every property (escalation per tier and account, trust, MFA, the
/// audit trail).
fn checking(c: &mut Criterion) {
    let mut group = c.benchmark_group("check --assume-empty");
    group.sample_size(10);
    for customers in [33, 166, 333, 1667] {
        let bp = blueprint(customers);
        let accounts = customers * 3 + 2;
        group.bench_with_input(BenchmarkId::from_parameter(accounts), &bp, |b, bp| {
            b.iter(|| {
                let report = check::check(&check::Inventory::offline(bp));
                assert!(report.passed());
                report
            })
        });
    }
    group.finish();
}

criterion_group!(benches, planning, checking);
criterion_main!(benches);
