use super::*;
use crate::policy::Effect;

fn acme() -> Blueprint {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/blueprints/acme.yaml");
    Blueprint::load(path).expect("acme is valid")
}

fn addresses(desired: &Desired) -> Vec<&str> {
    desired
        .resources
        .iter()
        .map(|r| r.address.as_str())
        .collect()
}

/// Ids for every account of the blueprint, as if they all existed.
pub(crate) fn all_known(bp: &Blueprint) -> Known {
    let mut known = Known {
        organization_id: Some("o-abc123".to_owned()),
        management_account_id: Some("999999999999".to_owned()),
        root_id: Some("r-ab12".to_owned()),
        ..Known::default()
    };
    for (n, ou) in crate::desired::ous(bp).into_iter().enumerate() {
        known
            .ou_ids
            .insert(ou.to_owned(), format!("ou-ab12-{n:08}"));
    }
    for (n, account) in accounts(bp).iter().enumerate() {
        known
            .account_ids
            .insert(account.name.clone(), format!("{:012}", 100 + n));
    }
    known.key_arns.insert(
        Address::key("audit"),
        "arn:aws:kms:eu-west-3:000000000101:key/1234abcd".to_owned(),
    );
    known
}

#[test]
fn organization_ous_and_accounts_come_first_and_complete() {
    let desired = expand(&acme(), &Known::default());
    let found = addresses(&desired);
    assert_eq!(
        &found[..13],
        [
            "organization",
            "ou.Security",
            "ou.Dev",
            "ou.PreProd",
            "ou.Prod",
            "account.security",
            "account.log-archive",
            "account.lumo-dev",
            "account.lumo-preprod",
            "account.lumo-prod",
            "account.retail-dev",
            "account.retail-prod",
            "policy.lumo-dev.lz-boundary",
        ]
    );
    let Spec::Account(lumo_prod) = &*desired.get(&Address::account("lumo-prod")).unwrap().spec
    else {
        panic!("an account");
    };
    assert_eq!(lumo_prod.email, "aws+lumo-prod@acme.example");
    assert_eq!(lumo_prod.ou, "Prod");
    assert_eq!(lumo_prod.tags["owner"], "team-lumo");
    assert_eq!(lumo_prod.tags["cost-center"], "platform");
    assert_eq!(lumo_prod.tags[OWNER_TAG], OWNER_VALUE);
    assert_eq!(lumo_prod.tags[BLUEPRINT_TAG], "acme");
}

#[test]
fn every_dependency_exists_and_comes_first() {
    let desired = expand(&acme(), &Known::default());
    for (i, resource) in desired.resources.iter().enumerate() {
        for dep in &resource.depends_on {
            let j = desired
                .resources
                .iter()
                .position(|r| &r.address == dep)
                .unwrap_or_else(|| panic!("{} depends on missing {dep}", resource.address));
            assert!(
                j < i,
                "{} is declared before its dependency {dep}",
                resource.address
            );
        }
    }
}

#[test]
fn tier_roles_land_where_their_tier_applies() {
    let desired = expand(&acme(), &Known::default());
    let roles: Vec<&str> = addresses(&desired)
        .into_iter()
        .filter(|a| a.starts_with("role."))
        .collect();
    // tinker only in dev; no tier role in the security or log-archive accounts.
    for account in ["lumo-dev", "retail-dev"] {
        for tier in ["lz-watcher", "lz-tinker", "lz-keeper", "lz-settler"] {
            assert!(
                roles.contains(&format!("role.{account}.{tier}").as_str()),
                "{account} {tier}"
            );
        }
    }
    assert!(
        !roles
            .iter()
            .any(|r| r.ends_with("prod.lz-tinker") || r.ends_with("preprod.lz-tinker"))
    );
    assert!(
        !roles
            .iter()
            .any(|r| r.starts_with("role.security.") || r.starts_with("role.log-archive."))
    );
    assert!(
        !roles.iter().any(|r| r.ends_with("lz-break-glass")),
        "break-glass is off by default"
    );
    assert_eq!(roles.len(), 5 * 3 + 2);
}

#[test]
fn unknown_ids_are_placeholders_until_accounts_exist() {
    let bp = acme();
    let desired = expand(&bp, &Known::default());
    let role = desired
        .get(&Address::role("lumo-dev", "lz-watcher"))
        .unwrap();
    assert!(role.unknown.contains(&Address::account("security")));
    let Spec::IamRole(spec) = &role.spec.as_ref() else {
        panic!()
    };
    assert!(
        spec.trust_policy
            .to_json()
            .contains("(known after apply: account.security)")
    );

    let known = all_known(&bp);
    let desired = expand(&bp, &known);
    assert!(desired.resources.iter().all(|r| r.unknown.is_empty()));
    let Spec::IamRole(spec) = &*desired
        .get(&Address::role("lumo-dev", "lz-watcher"))
        .unwrap()
        .spec
    else {
        panic!()
    };
    let security = &known.account_ids["security"];
    assert!(
        spec.trust_policy
            .to_json()
            .contains(&format!("arn:aws:iam::{security}:root"))
    );
    assert!(!desired.resources.iter().any(|r| {
        serde_json::to_string(&r.spec)
            .unwrap()
            .contains("known after apply")
    }));
}

#[test]
fn trust_requires_mfa_exactly_where_the_tier_does() {
    let bp = acme();
    let desired = expand(&bp, &all_known(&bp));
    for resource in &desired.resources {
        let Spec::IamRole(role) = &resource.spec.as_ref() else {
            continue;
        };
        let mfa = role.trust_policy.iter().any(|s| {
            s.condition
                .get("Bool")
                .is_some_and(|c| c.contains_key("aws:MultiFactorAuthPresent"))
        });
        let org = role
            .trust_policy
            .iter()
            .all(|s| s.condition["StringEquals"]["aws:PrincipalOrgID"].0 == ["o-abc123"]);
        assert!(org, "{}", resource.address);
        let wants_mfa = role.name == "lz-keeper" || role.name == "lz-settler";
        assert_eq!(mfa, wants_mfa, "{}", resource.address);
    }
}

#[test]
fn no_statement_grants_every_action() {
    let bp = acme();
    let desired = expand(&bp, &all_known(&bp));
    for resource in &desired.resources {
        let documents: Vec<&crate::policy::PolicyDocument> = match resource.spec.as_ref() {
            Spec::IamRole(r) => std::iter::once(&r.trust_policy)
                .chain(r.inline_policies.values())
                .map(|d| d.as_ref())
                .collect(),
            Spec::IamPolicy(p) => vec![p.document.as_ref()],
            Spec::IamGroup(g) => g.inline_policies.values().map(|d| d.as_ref()).collect(),
            Spec::KmsKey(k) => vec![&k.policy],
            Spec::S3Bucket(b) => vec![&b.policy],
            _ => vec![],
        };
        for statement in documents.iter().flat_map(|d| d.iter()) {
            if statement.effect == Effect::Allow {
                assert!(
                    !statement.action.iter().any(|a| a == "*"),
                    "{}",
                    resource.address
                );
                if statement.action.iter().any(|a| a == "iam:PassRole") {
                    assert!(
                        !statement.resource.iter().any(|r| r == "*"),
                        "{}",
                        resource.address
                    );
                }
            }
        }
    }
}

#[test]
fn groups_in_the_security_account_name_the_tier_role_in_exactly_its_units() {
    let bp = acme();
    let known = all_known(&bp);
    let desired = expand(&bp, &known);
    let paths = |group: &str| {
        let group = desired.get(&Address::group(group)).unwrap();
        assert_eq!(group.account.as_deref(), Some("security"));
        let Spec::IamGroup(spec) = &group.spec.as_ref() else {
            panic!()
        };
        let statement = &spec.inline_policies["lz-assume"].statements[0];
        let resources: Vec<String> = statement.resource.iter().map(str::to_owned).collect();
        let paths: Vec<String> =
            statement.condition["ForAnyValue:StringEquals"]["aws:ResourceOrgPaths"]
                .0
                .iter()
                .map(|p| p.to_string())
                .collect();
        (resources, paths)
    };
    let path = |ou: &str| format!("o-abc123/r-ab12/{}/", known.ou_ids[ou]);
    let (resources, tinker) = paths("lz-tinker");
    assert_eq!(resources, ["arn:aws:iam::*:role/landing-zone/lz-tinker"]);
    assert_eq!(tinker, [path("Dev")]);
    let (_, settler) = paths("lz-settler");
    assert_eq!(settler, [path("Dev"), path("PreProd"), path("Prod")]);
}

#[test]
fn a_group_policy_does_not_grow_with_the_accounts() {
    let size = |customers: usize| {
        let mut bp = acme();
        let template = bp.customers["lumo"].clone();
        for n in 0..customers {
            bp.customers.insert(format!("c{n:04}"), template.clone());
        }
        let desired = expand(&bp, &all_known(&bp));
        let Spec::IamGroup(group) = desired
            .get(&Address::group("lz-watcher"))
            .unwrap()
            .spec
            .as_ref()
        else {
            panic!()
        };
        crate::quotas::policy_size(&group.inline_policies["lz-assume"])
    };
    assert_eq!(size(1), size(1_700));
}

#[test]
fn audit_resources_live_in_log_archive_and_the_trail_in_management() {
    let bp = acme();
    let desired = expand(&bp, &all_known(&bp));
    for address in [
        Address::key("audit"),
        Address::bucket("audit"),
        Address::bucket("access-logs"),
    ] {
        assert_eq!(
            desired.get(&address).unwrap().account.as_deref(),
            Some("log-archive"),
            "{address}"
        );
    }
    let trail = desired.get(&Address::trail("org")).unwrap();
    assert_eq!(trail.account, None);
    let Spec::S3Bucket(bucket) = &desired
        .get(&Address::bucket("audit"))
        .unwrap()
        .spec
        .as_ref()
    else {
        panic!()
    };
    assert_eq!(bucket.name, "acme-audit-000000000101");
    assert_eq!(bucket.object_lock.as_ref().unwrap().days, 365);
    assert!(crate::validate::is_bucket_name(&bucket.name));
}

#[test]
fn deletion_opt_in_maps_to_kinds() {
    let mut bp = acme();
    assert!(expand(&bp, &Known::default()).deletable.is_empty());
    bp.allow_delete = vec![crate::blueprint::DeletableKind::OrganizationalUnits];
    assert_eq!(
        expand(&bp, &Known::default()).deletable,
        BTreeSet::from([Kind::OrganizationalUnit])
    );
}

#[test]
fn administrator_rights_always_sit_behind_mfa_on_every_shipped_blueprint() {
    for name in ["acme", "northwind"] {
        let path = format!("{}/blueprints/{name}.yaml", env!("CARGO_MANIFEST_DIR"));
        let bp = Blueprint::load(&path).unwrap();
        let desired = expand(&bp, &all_known(&bp));
        let mut admin_roles = 0;
        for resource in &desired.resources {
            let Spec::IamRole(role) = resource.spec.as_ref() else {
                continue;
            };
            let admin = role
                .managed_policies
                .contains(crate::blueprint::ADMINISTRATOR_ACCESS)
                || role
                    .inline_policies
                    .values()
                    .flat_map(|d| d.iter())
                    .any(|s| s.effect == Effect::Allow && s.action.iter().any(|a| a == "*"));
            if admin {
                admin_roles += 1;
                let mfa = role.trust_policy.iter().all(|s| {
                    s.condition
                        .get("Bool")
                        .and_then(|c| c.get("aws:MultiFactorAuthPresent"))
                        .is_some_and(|v| v.0 == ["true"])
                });
                assert!(mfa, "{name}: {} grants admin without MFA", resource.address);
            }
        }
        assert!(admin_roles > 0, "{name} has settler roles");
    }
}

fn statement<'a>(
    doc: &'a crate::policy::PolicyDocument,
    sid: &str,
) -> &'a crate::policy::Statement {
    doc.iter()
        .find(|s| s.sid.as_deref() == Some(sid))
        .unwrap_or_else(|| panic!("no statement {sid}"))
}

fn condition<'a>(s: &'a crate::policy::Statement, operator: &str, key: &str) -> Vec<&'a str> {
    s.condition[operator][key].iter().collect()
}

#[test]
fn the_key_policy_statement_by_statement() {
    let bp = acme();
    let known = all_known(&bp);
    let desired = expand(&bp, &known);
    let Spec::KmsKey(key) = desired.get(&Address::key("audit")).unwrap().spec.as_ref() else {
        panic!()
    };
    let la = &known.account_ids["log-archive"];
    let trail = "arn:aws:cloudtrail:eu-west-3:999999999999:trail/acme-org-trail";
    assert_eq!(key.policy.statements.len(), 4);
    let admin = statement(&key.policy, "LogArchiveAdministers");
    assert_eq!(admin.effect, Effect::Allow);
    assert_eq!(
        serde_json::to_value(&admin.principal).unwrap()["AWS"],
        format!("arn:aws:iam::{la}:root")
    );
    let encrypt = statement(&key.policy, "CloudTrailEncrypts");
    assert_eq!(
        encrypt.action.iter().collect::<Vec<_>>(),
        ["kms:GenerateDataKey*"]
    );
    assert_eq!(
        condition(
            encrypt,
            "StringLike",
            "kms:EncryptionContext:aws:cloudtrail:arn"
        ),
        ["arn:aws:cloudtrail:*:999999999999:trail/*"]
    );
    assert_eq!(condition(encrypt, "StringEquals", "aws:SourceArn"), [trail]);
    let describe = statement(&key.policy, "CloudTrailDescribes");
    assert_eq!(
        condition(describe, "StringEquals", "aws:SourceArn"),
        [trail]
    );
    let guard = statement(&key.policy, "DenyKeyChangesButLandingZone");
    assert_eq!(guard.effect, Effect::Deny);
    assert_eq!(
        guard.action.iter().collect::<Vec<_>>(),
        crate::check::audit::KEY_OPERATIONS
    );
    assert_eq!(
        condition(guard, "ArnNotLike", "aws:PrincipalArn"),
        [format!(
            "arn:aws:iam::{la}:role/OrganizationAccountAccessRole"
        )]
    );
    assert!(
        key.policy
            .iter()
            .all(|s| s.action.iter().all(|a| a != "kms:Decrypt")),
        "no statement lets principals outside the log-archive account decrypt"
    );
}

#[test]
fn the_audit_bucket_policy_statement_by_statement() {
    let bp = acme();
    let known = all_known(&bp);
    let desired = expand(&bp, &known);
    let Spec::S3Bucket(bucket) = desired
        .get(&Address::bucket("audit"))
        .unwrap()
        .spec
        .as_ref()
    else {
        panic!()
    };
    let la = &known.account_ids["log-archive"];
    let name = format!("acme-audit-{la}");
    let trail = "arn:aws:cloudtrail:eu-west-3:999999999999:trail/acme-org-trail";
    assert_eq!(bucket.policy.statements.len(), 6);

    let tls = statement(&bucket.policy, "DenyInsecureTransport");
    assert_eq!(tls.effect, Effect::Deny);
    assert_eq!(condition(tls, "Bool", "aws:SecureTransport"), ["false"]);
    assert_eq!(
        tls.resource.iter().collect::<Vec<_>>(),
        [
            format!("arn:aws:s3:::{name}"),
            format!("arn:aws:s3:::{name}/*")
        ]
    );
    let sse = statement(&bucket.policy, "DenyUploadsNotEncryptedWithAuditKey");
    assert_eq!(sse.effect, Effect::Deny);
    assert_eq!(
        condition(
            sse,
            "StringNotEqualsIfExists",
            "s3:x-amz-server-side-encryption-aws-kms-key-id"
        ),
        [known.key_arns[&Address::key("audit")].as_str()]
    );
    let acl = statement(&bucket.policy, "CloudTrailChecksAcl");
    assert_eq!(
        (acl.effect, acl.action.iter().collect::<Vec<_>>()),
        (Effect::Allow, vec!["s3:GetBucketAcl"])
    );
    assert_eq!(condition(acl, "StringEquals", "aws:SourceArn"), [trail]);
    let write = statement(&bucket.policy, "CloudTrailWrites");
    assert_eq!(
        write.resource.iter().collect::<Vec<_>>(),
        [
            format!("arn:aws:s3:::{name}/AWSLogs/999999999999/*"),
            format!("arn:aws:s3:::{name}/AWSLogs/o-abc123/*")
        ]
    );
    assert_eq!(
        condition(write, "StringEquals", "s3:x-amz-acl"),
        ["bucket-owner-full-control"]
    );
    assert_eq!(condition(write, "StringEquals", "aws:SourceArn"), [trail]);
    let access_role = format!("arn:aws:iam::{la}:role/OrganizationAccountAccessRole");
    let guard = statement(&bucket.policy, "DenyChangesButLandingZone");
    assert_eq!(guard.effect, Effect::Deny);
    assert!(guard.action.iter().any(|a| a == "s3:PutBucketVersioning"));
    assert!(guard.action.iter().any(|a| a == "s3:DeleteObjectVersion"));
    assert_eq!(
        condition(guard, "ArnNotLike", "aws:PrincipalArn"),
        [access_role.as_str()]
    );
    let writes = statement(&bucket.policy, "DenyWritesButServices");
    assert_eq!(writes.action.iter().collect::<Vec<_>>(), ["s3:PutObject"]);
    assert_eq!(
        condition(writes, "Bool", "aws:PrincipalIsAWSService"),
        ["false"]
    );
}
