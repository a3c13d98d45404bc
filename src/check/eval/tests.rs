//! The evaluator against the cases AWS documents in "Policy evaluation logic" and the
//! condition operator reference, as tables.

use super::*;

const ME: &str = "111111111111";
const OTHER: &str = "222222222222";

fn doc(json: &str) -> Arc<Compiled> {
    Arc::new(Compiled::new(
        &PolicyDocument::parse(json).expect("test documents parse"),
    ))
}

fn allow(action: &str, resource: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"{resource}"}}]}}"#
    )
}

fn role() -> Caller {
    Caller::role(ME, format!("arn:aws:iam::{ME}:role/app"))
}

/// One request by `caller` against the given policies.
struct Case<'a> {
    caller: Caller,
    identity: Vec<Arc<Compiled>>,
    boundary: Option<Arc<Compiled>>,
    scps: Vec<Vec<Arc<Compiled>>>,
    rcps: Vec<Vec<Arc<Compiled>>>,
    resource: Option<(Arc<Compiled>, ResourcePolicyKind)>,
    resource_account: Option<&'a str>,
    context: Context,
}

impl<'a> Case<'a> {
    fn identity(policies: &[&str]) -> Case<'a> {
        Case {
            caller: role(),
            identity: policies.iter().map(|p| doc(p)).collect(),
            boundary: None,
            scps: Vec::new(),
            rcps: Vec::new(),
            resource: None,
            resource_account: None,
            context: Context::new(),
        }
    }

    fn decide(&self, action: &str, resource: Option<&str>) -> Decision {
        evaluate(
            &Request {
                caller: &self.caller,
                action,
                resource,
                resource_account: self.resource_account,
                context: &self.context,
            },
            &Policies {
                identity: &self.identity,
                boundary: self.boundary.as_deref(),
                scps: &self.scps,
                rcps: &self.rcps,
                resource: self.resource.as_ref().map(|(p, k)| (p.as_ref(), *k)),
            },
        )
    }
}

use Decision::{Allow, ExplicitDeny, ImplicitDeny};

#[test]
fn explicit_deny_wins_and_nothing_allowed_is_denied() {
    let case = Case::identity(&[
        &allow("s3:*", "*"),
        r#"{"Statement":{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}}"#,
    ]);
    let table = [
        ("s3:GetObject", Allow),
        ("s3:DeleteBucket", ExplicitDeny),
        ("ec2:RunInstances", ImplicitDeny),
    ];
    for (action, expected) in table {
        assert_eq!(
            case.decide(action, Some("arn:aws:s3:::b")),
            expected,
            "{action}"
        );
    }
}

#[test]
fn a_permissions_boundary_intersects_the_identity_policies() {
    // The IAM User Guide's example: the identity policy allows IAM and S3, the boundary S3,
    // CloudWatch and EC2: only S3 is allowed.
    let mut case = Case::identity(&[&allow("iam:*", "*"), &allow("s3:*", "*")]);
    case.boundary = Some(doc(
        r#"{"Statement":{"Effect":"Allow","Action":["s3:*","cloudwatch:*","ec2:*"],"Resource":"*"}}"#,
    ));
    let table = [
        ("s3:GetObject", Allow),
        ("iam:CreateUser", ImplicitDeny),
        ("ec2:RunInstances", ImplicitDeny),
    ];
    for (action, expected) in table {
        assert_eq!(case.decide(action, Some("*")), expected, "{action}");
    }
    // A deny in the boundary is a deny.
    case.boundary = Some(doc(
        r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"s3:Delete*","Resource":"*"}]}"#,
    ));
    assert_eq!(case.decide("s3:DeleteObject", Some("*")), ExplicitDeny);
}

#[test]
fn not_action_and_not_resource() {
    let case = Case::identity(&[
        r#"{"Statement":{"Effect":"Allow","NotAction":["iam:*","organizations:*"],"Resource":"*"}}"#,
    ]);
    assert_eq!(case.decide("s3:GetObject", Some("*")), Allow);
    assert_eq!(case.decide("iam:CreateUser", Some("*")), ImplicitDeny);
    assert_eq!(case.decide("IAM:createuser", Some("*")), ImplicitDeny);

    let case = Case::identity(&[
        r#"{"Statement":{"Effect":"Allow","Action":"s3:*","NotResource":"arn:aws:s3:::secret/*"}}"#,
    ]);
    assert_eq!(
        case.decide("s3:GetObject", Some("arn:aws:s3:::open/a")),
        Allow
    );
    assert_eq!(
        case.decide("s3:GetObject", Some("arn:aws:s3:::secret/a")),
        ImplicitDeny
    );
    // Deny with NotAction: everything but reading is denied.
    let case = Case::identity(&[
        &allow("*", "*"),
        r#"{"Statement":{"Effect":"Deny","NotAction":["s3:Get*","s3:List*"],"Resource":"*"}}"#,
    ]);
    assert_eq!(case.decide("s3:GetObject", Some("*")), Allow);
    assert_eq!(case.decide("s3:PutObject", Some("*")), ExplicitDeny);
}

#[test]
fn actions_match_case_insensitively_and_resources_by_arn_part() {
    let case = Case::identity(&[
        &allow("S3:Get*", "arn:aws:s3:::logs-?/*"),
        &allow("iam:PassRole", "arn:aws:iam::*:role/keeper/*"),
    ]);
    let table = [
        ("s3:getobject", "arn:aws:s3:::logs-a/x", Allow),
        ("s3:GetObject", "arn:aws:s3:::logs-ab/x", ImplicitDeny),
        ("s3:PutObject", "arn:aws:s3:::logs-a/x", ImplicitDeny),
        (
            "iam:PassRole",
            "arn:aws:iam::111111111111:role/keeper/app",
            Allow,
        ),
        (
            "iam:PassRole",
            "arn:aws:iam::111111111111:role/landing-zone/lz-settler",
            ImplicitDeny,
        ),
    ];
    for (action, resource, expected) in table {
        assert_eq!(
            case.decide(action, Some(resource)),
            expected,
            "{action} {resource}"
        );
    }
}

/// Each condition operator lz uses, with the key present, absent and unknown.
#[test]
fn condition_operators() {
    let statement = |operator: &str, key: &str, value: &str| {
        format!(
            r#"{{"Statement":{{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{{"{operator}":{{"{key}":{value}}}}}}}}}"#
        )
    };
    let present = |key: &str, v: &str| Context::new().with(key, v);
    let absent = |key: &str| Context::new().without(key);
    let many = |key: &str, v: &[&str]| {
        Context::new().with_all(key, v.iter().map(|s| s.to_string()).collect())
    };
    let table: Vec<(&str, &str, &str, Context, bool)> = vec![
        (
            "StringEquals",
            "aws:PrincipalOrgID",
            r#""o-1""#,
            present("aws:PrincipalOrgID", "o-1"),
            true,
        ),
        (
            "StringEquals",
            "aws:PrincipalOrgID",
            r#""o-1""#,
            present("aws:PrincipalOrgID", "o-2"),
            false,
        ),
        (
            "StringEquals",
            "aws:PrincipalOrgID",
            r#""o-1""#,
            absent("aws:PrincipalOrgID"),
            false,
        ),
        // Keys compare case-insensitively, values case-sensitively.
        (
            "StringEquals",
            "AWS:principalorgid",
            r#""o-1""#,
            present("aws:PrincipalOrgID", "o-1"),
            true,
        ),
        (
            "StringEquals",
            "aws:PrincipalOrgID",
            r#""O-1""#,
            present("aws:PrincipalOrgID", "o-1"),
            false,
        ),
        (
            "StringEqualsIgnoreCase",
            "aws:PrincipalOrgID",
            r#""O-1""#,
            present("aws:PrincipalOrgID", "o-1"),
            true,
        ),
        (
            "StringNotEquals",
            "aws:PrincipalOrgID",
            r#""o-1""#,
            present("aws:PrincipalOrgID", "o-2"),
            true,
        ),
        (
            "StringNotEquals",
            "aws:PrincipalOrgID",
            r#""o-1""#,
            present("aws:PrincipalOrgID", "o-1"),
            false,
        ),
        // A negated operator on an absent key is true.
        (
            "StringNotEquals",
            "aws:PrincipalOrgID",
            r#""o-1""#,
            absent("aws:PrincipalOrgID"),
            true,
        ),
        (
            "StringLike",
            "iam:PermissionsBoundary",
            r#""arn:aws:iam::*:policy/b""#,
            present("iam:PermissionsBoundary", "arn:aws:iam::1:policy/b"),
            true,
        ),
        (
            "StringLike",
            "iam:PermissionsBoundary",
            r#""arn:aws:iam::*:policy/b""#,
            present("iam:PermissionsBoundary", "arn:aws:iam::1:policy/c"),
            false,
        ),
        (
            "StringNotLike",
            "s3:prefix",
            r#""home/*""#,
            present("s3:prefix", "etc/x"),
            true,
        ),
        (
            "ArnLike",
            "aws:SourceArn",
            r#""arn:aws:cloudtrail:*:1:trail/*""#,
            present("aws:SourceArn", "arn:aws:cloudtrail:eu-west-3:1:trail/t"),
            true,
        ),
        (
            "ArnLike",
            "aws:SourceArn",
            r#""arn:aws:cloudtrail:*:1:trail/*""#,
            present("aws:SourceArn", "arn:aws:cloudtrail:eu-west-3:2:trail/t"),
            false,
        ),
        (
            "ArnNotLike",
            "aws:PrincipalArn",
            r#""arn:aws:iam::1:role/a""#,
            present("aws:PrincipalArn", "arn:aws:iam::1:role/b"),
            true,
        ),
        (
            "ArnNotLike",
            "aws:PrincipalArn",
            r#""arn:aws:iam::1:role/a""#,
            absent("aws:PrincipalArn"),
            true,
        ),
        (
            "Bool",
            "aws:MultiFactorAuthPresent",
            r#""true""#,
            present("aws:MultiFactorAuthPresent", "true"),
            true,
        ),
        (
            "Bool",
            "aws:MultiFactorAuthPresent",
            "true",
            present("aws:MultiFactorAuthPresent", "false"),
            false,
        ),
        (
            "Bool",
            "aws:MultiFactorAuthPresent",
            r#""true""#,
            absent("aws:MultiFactorAuthPresent"),
            false,
        ),
        (
            "BoolIfExists",
            "aws:MultiFactorAuthPresent",
            r#""true""#,
            absent("aws:MultiFactorAuthPresent"),
            true,
        ),
        (
            "NumericLessThan",
            "aws:MultiFactorAuthAge",
            r#""3600""#,
            present("aws:MultiFactorAuthAge", "120"),
            true,
        ),
        (
            "NumericLessThan",
            "aws:MultiFactorAuthAge",
            "3600",
            present("aws:MultiFactorAuthAge", "7200"),
            false,
        ),
        (
            "NumericGreaterThanEquals",
            "s3:max-keys",
            r#""10""#,
            present("s3:max-keys", "10"),
            true,
        ),
        (
            "Null",
            "aws:TokenIssueTime",
            r#""true""#,
            absent("aws:TokenIssueTime"),
            true,
        ),
        (
            "Null",
            "aws:TokenIssueTime",
            r#""true""#,
            present("aws:TokenIssueTime", "x"),
            false,
        ),
        (
            "Null",
            "aws:TokenIssueTime",
            r#""false""#,
            present("aws:TokenIssueTime", "x"),
            true,
        ),
        (
            "ForAnyValue:StringEquals",
            "aws:TagKeys",
            r#"["a","b"]"#,
            many("aws:TagKeys", &["c", "b"]),
            true,
        ),
        (
            "ForAnyValue:StringEquals",
            "aws:TagKeys",
            r#"["a","b"]"#,
            many("aws:TagKeys", &["c"]),
            false,
        ),
        (
            "ForAnyValue:StringEquals",
            "aws:TagKeys",
            r#"["a"]"#,
            absent("aws:TagKeys"),
            false,
        ),
        (
            "ForAllValues:StringEquals",
            "aws:TagKeys",
            r#"["a","b"]"#,
            many("aws:TagKeys", &["a", "b"]),
            true,
        ),
        (
            "ForAllValues:StringEquals",
            "aws:TagKeys",
            r#"["a","b"]"#,
            many("aws:TagKeys", &["a", "c"]),
            false,
        ),
        // ForAllValues is true of a key that is not there: AWS warns about exactly this.
        (
            "ForAllValues:StringEquals",
            "aws:TagKeys",
            r#"["a"]"#,
            absent("aws:TagKeys"),
            true,
        ),
    ];
    for (operator, key, value, context, expected) in table {
        let mut case = Case::identity(&[&statement(operator, key, value)]);
        case.context = context.clone();
        assert_eq!(
            case.decide("s3:GetObject", Some("*")) == Allow,
            expected,
            "{operator} {key} {value} with {context:?}"
        );
    }
}

/// What the request does not settle is read against the claim: an allow may apply, a deny
/// may not.
#[test]
fn unknown_keys_and_unsupported_operators_are_conservative() {
    let allow_if = r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}}"#;
    let deny_if = r#"{"Statement":{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}}"#;
    let case = Case::identity(&[allow_if, deny_if]);
    assert_eq!(case.decide("s3:GetObject", Some("*")), Allow);
    // Settled, the deny applies.
    let mut settled = Case::identity(&[&allow("s3:*", "*"), deny_if]);
    settled.context = Context::new().with("aws:RequestedRegion", "us-east-1");
    assert_eq!(settled.decide("s3:GetObject", Some("*")), ExplicitDeny);
}

#[test]
fn some_resource_matches_any_allow_but_only_a_deny_on_everything() {
    let case = Case::identity(&[
        &allow("ssm:SendCommand", "arn:aws:ec2:*:*:instance/i-1"),
        r#"{"Statement":{"Effect":"Deny","Action":"ssm:SendCommand","Resource":"arn:aws:ec2:*:*:instance/i-2"}}"#,
    ]);
    assert_eq!(case.decide("ssm:SendCommand", None), Allow);
    let denied = Case::identity(&[
        &allow("ssm:SendCommand", "*"),
        r#"{"Statement":{"Effect":"Deny","Action":"ssm:SendCommand","Resource":"*"}}"#,
    ]);
    assert_eq!(denied.decide("ssm:SendCommand", None), ExplicitDeny);
}

#[test]
fn policy_variables() {
    let mut case = Case::identity(&[&allow(
        "s3:GetObject",
        "arn:aws:s3:::home/${aws:username}/*",
    )]);
    case.context = Context::new().with("aws:username", "alice");
    assert_eq!(
        case.decide("s3:GetObject", Some("arn:aws:s3:::home/alice/x")),
        Allow
    );
    assert_eq!(
        case.decide("s3:GetObject", Some("arn:aws:s3:::home/bob/x")),
        ImplicitDeny
    );
    // Unknown: the allow may apply.
    case.context = Context::new();
    assert_eq!(
        case.decide("s3:GetObject", Some("arn:aws:s3:::home/bob/x")),
        Allow
    );
}

#[test]
fn resource_policies_within_and_across_accounts() {
    let bucket = "arn:aws:s3:::b";
    let grant = |principal: &str| {
        doc(&format!(
            r#"{{"Statement":{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"s3:GetObject","Resource":"{bucket}"}}}}"#
        ))
    };
    // Same account: a grant to the principal itself suffices.
    let mut case = Case::identity(&[]);
    case.resource = Some((
        grant(&format!("arn:aws:iam::{ME}:role/app")),
        ResourcePolicyKind::Optional,
    ));
    assert_eq!(case.decide("s3:GetObject", Some(bucket)), Allow);
    // Same account: a grant to the account needs the identity policy.
    case.resource = Some((grant(ME), ResourcePolicyKind::Optional));
    assert_eq!(case.decide("s3:GetObject", Some(bucket)), ImplicitDeny);
    // Same account: the identity policy alone suffices for S3.
    case.resource = None;
    case.identity = vec![doc(&allow("s3:GetObject", "*"))];
    assert_eq!(case.decide("s3:GetObject", Some(bucket)), Allow);
    // Across accounts both sides must allow.
    case.resource_account = Some(OTHER);
    assert_eq!(case.decide("s3:GetObject", Some(bucket)), ImplicitDeny);
    case.resource = Some((
        grant(&format!("arn:aws:iam::{ME}:root")),
        ResourcePolicyKind::Optional,
    ));
    assert_eq!(case.decide("s3:GetObject", Some(bucket)), Allow);
    case.identity.clear();
    assert_eq!(case.decide("s3:GetObject", Some(bucket)), ImplicitDeny);
}

#[test]
fn a_resource_policy_deny_naming_an_account_binds_all_its_principals() {
    let mut case = Case::identity(&[&allow("s3:*", "*")]);
    case.resource = Some((
        doc(&format!(
            r#"{{"Statement":{{"Effect":"Deny","Principal":{{"AWS":"arn:aws:iam::{ME}:root"}},"Action":"s3:DeleteObject","Resource":"*"}}}}"#
        )),
        ResourcePolicyKind::Optional,
    ));
    assert_eq!(
        case.decide("s3:DeleteObject", Some("arn:aws:s3:::b/x")),
        ExplicitDeny
    );
    assert_eq!(case.decide("s3:GetObject", Some("arn:aws:s3:::b/x")), Allow);
}

#[test]
fn key_policies_and_trust_policies_must_grant() {
    let key = "arn:aws:kms:eu-west-3:111111111111:key/k";
    let mut case = Case::identity(&[&allow("kms:*", "*")]);
    case.resource = Some((
        doc(&format!(
            r#"{{"Statement":{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{OTHER}:root"}},"Action":"kms:*","Resource":"*"}}}}"#
        )),
        ResourcePolicyKind::Required,
    ));
    assert_eq!(case.decide("kms:Decrypt", Some(key)), ImplicitDeny);
    case.resource = Some((
        doc(&format!(
            r#"{{"Statement":{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ME}:root"}},"Action":"kms:*","Resource":"*"}}}}"#
        )),
        ResourcePolicyKind::Required,
    ));
    assert_eq!(case.decide("kms:Decrypt", Some(key)), Allow);
    case.identity.clear();
    assert_eq!(
        case.decide("kms:Decrypt", Some(key)),
        ImplicitDeny,
        "a grant to the account needs the identity policy too"
    );

    // A trust policy naming the role directly admits it within the account, unless its
    // boundary leaves sts:AssumeRole out.
    let target = "arn:aws:iam::111111111111:role/target";
    let mut case = Case::identity(&[]);
    case.resource = Some((
        doc(&format!(
            r#"{{"Statement":{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ME}:role/app"}},"Action":"sts:AssumeRole"}}}}"#
        )),
        ResourcePolicyKind::Required,
    ));
    assert_eq!(case.decide("sts:AssumeRole", Some(target)), Allow);
    case.boundary = Some(doc(&allow("s3:*", "*")));
    assert_eq!(case.decide("sts:AssumeRole", Some(target)), ImplicitDeny);
}

#[test]
fn service_principals_need_a_grant_by_name() {
    let bucket = "arn:aws:s3:::b/AWSLogs/x";
    let mut case = Case::identity(&[]);
    case.caller = Caller::service("cloudtrail.amazonaws.com");
    case.context = case.caller.context(None);
    case.resource = Some((
        doc(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::b/AWSLogs/*"},{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::1:role/a"},"Bool":{"aws:PrincipalIsAWSService":"false"}}}]}"#,
        ),
        ResourcePolicyKind::Optional,
    ));
    assert_eq!(case.decide("s3:PutObject", Some(bucket)), Allow);
    case.caller = Caller::service("config.amazonaws.com");
    case.context = case.caller.context(None);
    assert_eq!(case.decide("s3:PutObject", Some(bucket)), ImplicitDeny);
}

#[test]
fn every_level_of_service_control_policies_must_allow() {
    let mut case = Case::identity(&[&allow("*", "*")]);
    case.scps = vec![vec![doc(&allow("*", "*"))], vec![doc(&allow("s3:*", "*"))]];
    assert_eq!(case.decide("s3:GetObject", Some("*")), Allow);
    assert_eq!(case.decide("ec2:RunInstances", Some("*")), ImplicitDeny);
}

/// Resource control policies (Organizations User Guide, "Resource control policies"): each
/// level must grant (`RCPFullAWSAccess`), a `Deny` binds whoever it names, AWS services
/// included, which SCPs never bind.
#[test]
fn resource_control_policies_bind_services_and_service_control_policies_do_not() {
    let full = r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}"#;
    let outsiders = r#"{"Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*",
        "Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-1"},"BoolIfExists":{"aws:PrincipalIsAWSService":"false"}}}}"#;
    let mut case = Case::identity(&[&allow("*", "*")]);
    case.resource = Some((
        doc(r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}"#),
        ResourcePolicyKind::Optional,
    ));
    case.resource_account = Some(OTHER);
    let bucket = Some("arn:aws:s3:::b");
    case.rcps = vec![vec![doc(full), doc(outsiders)]];
    case.context = case.caller.context(Some("o-1"));
    assert_eq!(case.decide("s3:GetObject", bucket), Allow);
    case.context = case.caller.context(Some("o-2"));
    assert_eq!(case.decide("s3:GetObject", bucket), ExplicitDeny);
    // A level without RCPFullAWSAccess grants nothing.
    case.rcps = vec![vec![doc(full)], vec![doc(outsiders)]];
    case.context = case.caller.context(Some("o-1"));
    assert_eq!(case.decide("s3:GetObject", bucket), ImplicitDeny);
    // A service: exempt by its condition from this RCP, denied by one without; never by an SCP.
    case.caller = Caller::service("cloudtrail.amazonaws.com");
    case.context = case.caller.context(None);
    case.rcps = vec![vec![doc(full), doc(outsiders)]];
    assert_eq!(case.decide("s3:PutObject", bucket), Allow);
    case.rcps = vec![vec![
        doc(full),
        doc(r#"{"Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}}"#),
    ]];
    assert_eq!(case.decide("s3:PutObject", bucket), ExplicitDeny);
    case.rcps = Vec::new();
    case.scps = vec![vec![doc(
        r#"{"Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}"#,
    )]];
    assert_eq!(case.decide("s3:PutObject", bucket), Allow);
}

#[test]
fn glob_matching() {
    let table = [
        ("*", "", true),
        ("a*b*c", "aXXbYYc", true),
        ("a*b*c", "aXXbYY", false),
        ("a?c", "abc", true),
        ("a?c", "ac", false),
        ("*x", "yyyx", true),
        ("**", "anything", true),
    ];
    for (pattern, text, expected) in table {
        assert_eq!(glob(pattern, text), expected, "{pattern} {text}");
    }
}

/// AWS lets the bucket owner's root user change or delete a bucket policy that denies it; an
/// SCP still binds it.
#[test]
fn the_root_user_may_always_replace_its_bucket_policy() {
    let mut case = Case::identity(&[]);
    case.caller = Caller::root(ME);
    case.resource = Some((
        doc(r#"{"Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}}"#),
        ResourcePolicyKind::Optional,
    ));
    let bucket = Some("arn:aws:s3:::b");
    assert_eq!(case.decide("s3:PutBucketPolicy", bucket), Allow);
    assert_eq!(case.decide("s3:DeleteBucketPolicy", bucket), Allow);
    assert_eq!(case.decide("s3:PutBucketVersioning", bucket), ExplicitDeny);
    case.scps = vec![vec![
        doc(&allow("*", "*")),
        doc(
            r#"{"Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}}"#,
        ),
    ]];
    case.context = case.caller.context(None);
    assert_eq!(case.decide("s3:PutBucketPolicy", bucket), ExplicitDeny);
}
