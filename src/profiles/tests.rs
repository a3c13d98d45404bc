use super::*;

fn acme() -> Blueprint {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/blueprints/acme.yaml");
    Blueprint::load(std::path::Path::new(path)).expect("acme is valid")
}

/// Every acme account exists but `retail-prod`.
fn known() -> Known {
    let mut known = Known::default();
    for (i, name) in [
        "security",
        "log-archive",
        "lumo-dev",
        "lumo-preprod",
        "lumo-prod",
        "retail-dev",
    ]
    .into_iter()
    .enumerate()
    {
        known
            .account_ids
            .insert(name.to_owned(), format!("10000000000{i}"));
    }
    known
}

fn options() -> ProfileOptions {
    ProfileOptions {
        source_profile: "acme-security".into(),
        mfa_serial: Some("arn:aws:iam::{security_account_id}:mfa/ada".into()),
        region: None,
        duration_secs: None,
        tiers: Vec::new(),
    }
}

#[test]
fn every_tier_role_of_an_existing_account_gets_a_profile() {
    let out = profiles(&acme(), &known(), &options()).unwrap();
    let names: Vec<&str> = out.profiles.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "lumo-dev-watcher",
            "lumo-dev-tinker",
            "lumo-dev-keeper",
            "lumo-dev-settler",
            "lumo-preprod-watcher",
            "lumo-preprod-keeper",
            "lumo-preprod-settler",
            "lumo-prod-watcher",
            "lumo-prod-keeper",
            "lumo-prod-settler",
            "retail-dev-watcher",
            "retail-dev-tinker",
            "retail-dev-keeper",
            "retail-dev-settler",
        ]
    );
    assert_eq!(out.not_created, ["retail-prod"]);
    let watcher = &out.profiles[0];
    assert_eq!(
        watcher.role_arn,
        "arn:aws:iam::100000000002:role/landing-zone/lz-watcher"
    );
    assert_eq!(watcher.mfa_serial, None);
    assert_eq!(watcher.duration_seconds, 4 * 3600);
    assert_eq!(watcher.region, "eu-west-3");
    let settler = &out.profiles[3];
    assert_eq!(
        settler.mfa_serial.as_deref(),
        Some("arn:aws:iam::100000000000:mfa/ada")
    );
    assert_eq!(settler.duration_seconds, 3600);
}

#[test]
fn a_shorter_session_is_honoured_and_a_longer_one_capped() {
    let mut options = options();
    options.duration_secs = Some(2 * 3600);
    let out = profiles(&acme(), &known(), &options).unwrap();
    let of = |name: &str| {
        out.profiles
            .iter()
            .find(|p| p.name == name)
            .unwrap()
            .duration_seconds
    };
    assert_eq!(of("lumo-dev-watcher"), 2 * 3600);
    assert_eq!(
        of("lumo-dev-settler"),
        3600,
        "settler's maximum is one hour"
    );
}

#[test]
fn tiers_that_require_mfa_need_a_device_unless_left_out() {
    let mut options = options();
    options.mfa_serial = None;
    assert_eq!(
        profiles(&acme(), &known(), &options),
        Err(ProfilesError::MfaSerialNeeded {
            tiers: vec!["keeper".into(), "settler".into()]
        })
    );
    options.tiers = vec![TierName::Watcher, TierName::Tinker];
    let out = profiles(&acme(), &known(), &options).unwrap();
    assert_eq!(out.profiles.len(), 6);
    assert!(out.profiles.iter().all(|p| p.mfa_serial.is_none()));
}

#[test]
fn no_profiles_before_the_security_account_exists() {
    assert_eq!(
        profiles(&acme(), &Known::default(), &options()),
        Err(ProfilesError::NoSecurityAccount("security".into()))
    );
}

#[test]
fn the_config_text_has_one_section_per_profile_with_its_settings() {
    let out = profiles(&acme(), &known(), &options()).unwrap();
    let text = config_text(&out);
    let sections: Vec<&str> = text.split("\n[profile ").skip(1).collect();
    assert_eq!(sections.len(), out.profiles.len());
    let settler = sections
        .iter()
        .find(|s| s.starts_with("lumo-dev-settler]"))
        .unwrap();
    assert_eq!(
        settler.lines().skip(1).collect::<Vec<_>>(),
        [
            "role_arn = arn:aws:iam::100000000002:role/landing-zone/lz-settler",
            "source_profile = acme-security",
            "mfa_serial = arn:aws:iam::100000000000:mfa/ada",
            "duration_seconds = 3600",
            "region = eu-west-3",
        ]
    );
    assert!(text.contains("# Not created yet, so no profile: retail-prod."));
}
