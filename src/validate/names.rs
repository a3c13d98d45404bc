//! The naming rules AWS enforces, checked before any call so a bad name fails here, with a
//! location, instead of halfway through an apply. Each check returns why a name is refused.

/// An account name: 1 to 50 printable ASCII characters (Organizations `CreateAccount`).
pub fn account_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 50 {
        return Err(format!(
            "account name `{name}` has {} characters; AWS accepts 1 to 50",
            name.chars().count()
        ));
    }
    if let Some(c) = name.chars().find(|c| !(' '..='~').contains(c)) {
        return Err(format!(
            "account name `{name}` contains `{c}`; AWS accepts printable ASCII characters only"
        ));
    }
    Ok(())
}

/// An email address as Organizations accepts it: 6 to 64 characters, `local@domain.tld`.
pub fn email(address: &str) -> Result<(), String> {
    let len = address.chars().count();
    if !(6..=64).contains(&len) {
        return Err(format!(
            "email `{address}` has {len} characters; AWS accepts 6 to 64"
        ));
    }
    let valid = match address.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain
                    .split_once('.')
                    .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty())
                && !domain.ends_with('.')
                && !address.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if valid {
        Ok(())
    } else {
        Err(format!("`{address}` is not an email address"))
    }
}

/// Whether IAM accepts `name` as a role, group or policy name: 1 to 64 of `\w+=,.@-`.
pub fn is_iam_name(name: &str) -> bool {
    iam_name(name).is_ok()
}

/// An IAM role, group or policy name.
pub fn iam_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 64 {
        return Err(format!(
            "IAM name `{name}` has {} characters; IAM accepts 1 to 64",
            name.chars().count()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_+=,.@-".contains(*c)))
    {
        return Err(format!(
            "IAM name `{name}` contains `{c}`; IAM accepts letters, digits and _+=,.@-"
        ));
    }
    Ok(())
}

/// An IAM path: `/`, or `/` + printable ASCII + `/`, at most 512 characters.
pub fn iam_path(path: &str) -> Result<(), String> {
    let printable = path.chars().all(|c| ('!'..='~').contains(&c));
    if path.len() > 512 || !path.starts_with('/') || !path.ends_with('/') || !printable {
        return Err(format!(
            "IAM path `{path}` is not valid; it must start and end with `/` and hold printable ASCII without spaces"
        ));
    }
    Ok(())
}

/// Whether S3 accepts `name` as a general purpose bucket name.
pub fn is_bucket_name(name: &str) -> bool {
    bucket_name(name).is_ok()
}

/// An S3 general purpose bucket name.
pub fn bucket_name(name: &str) -> Result<(), String> {
    let refuse = |why: &str| Err(format!("bucket name `{name}` {why}"));
    if !(3..=63).contains(&name.len()) {
        return refuse(&format!(
            "has {} characters; S3 accepts 3 to 63",
            name.len()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '.' || *c == '-'))
    {
        return refuse(&format!(
            "contains `{c}`; S3 accepts lowercase letters, digits, `.` and `-`"
        ));
    }
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !edge_ok(name.chars().next()) || !edge_ok(name.chars().last()) {
        return refuse("must begin and end with a letter or digit");
    }
    if name.contains("..") {
        return refuse("contains `..`");
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return refuse("is shaped like an IP address");
    }
    for prefix in ["xn--", "sthree-", "amzn-s3-demo-"] {
        if name.starts_with(prefix) {
            return refuse(&format!("begins with the reserved prefix `{prefix}`"));
        }
    }
    for suffix in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] {
        if name.ends_with(suffix) {
            return refuse(&format!("ends with the reserved suffix `{suffix}`"));
        }
    }
    Ok(())
}

/// Whether `name` is a landing zone's name: 1 to 32 lowercase letters, digits and hyphens,
/// beginning with a letter and not ending with a hyphen (it prefixes resource names).
pub fn is_landing_zone_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
}

/// Whether `name` has the shape of an AWS region name (`eu-west-3`, `us-gov-west-1`,
/// `eusc-de-east-1`).
pub fn is_region_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    let Some((number, words)) = parts.split_last() else {
        return false;
    };
    words.len() >= 2
        && (words[0].len() == 2 || words[0] == "eusc")
        && words
            .iter()
            .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase()))
        && !number.is_empty()
        && number.len() <= 2
        && number.chars().all(|c| c.is_ascii_digit())
}

/// The AWS partition of a region, by the prefixes AWS's endpoint rules give each partition
/// (the SDK's `partitions.json`): China, GovCloud, the European Sovereign Cloud and the
/// isolated regions have their own; every other region is in `aws`. The SDK's resolver is not
/// public, hence these eight lines.
pub fn partition_of(region: &str) -> &'static str {
    let mut words = region.split('-');
    match (words.next(), words.next()) {
        (Some("cn"), _) => "aws-cn",
        (Some("eusc"), _) => "aws-eusc",
        (Some("us"), Some("gov")) => "aws-us-gov",
        (Some("us"), Some("iso")) => "aws-iso",
        (Some("us"), Some("isob")) => "aws-iso-b",
        (Some("eu"), Some("isoe")) => "aws-iso-e",
        (Some("us"), Some("isof")) => "aws-iso-f",
        _ => "aws",
    }
}

/// A KMS alias name, without its `alias/` prefix.
pub fn key_alias(alias: &str) -> Result<(), String> {
    let valid = !alias.is_empty()
        && alias.len() <= 250
        && alias
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_-".contains(c))
        && !alias.starts_with("aws/");
    if valid {
        Ok(())
    } else {
        Err(format!(
            "KMS alias `{alias}` is not valid; use letters, digits, `/`, `_` and `-`, not beginning with `aws/`"
        ))
    }
}

/// A tag key or value as AWS accepts it on every service this tool tags.
pub fn tag(key: &str, value: &str) -> Result<(), String> {
    if key.is_empty() || key.chars().count() > 128 {
        return Err(format!("tag key `{key}` must have 1 to 128 characters"));
    }
    if key.to_ascii_lowercase().starts_with("aws:") {
        return Err(format!(
            "tag key `{key}` uses the prefix `aws:`, reserved by AWS"
        ));
    }
    if value.chars().count() > 256 {
        return Err(format!(
            "the value of tag `{key}` has more than 256 characters"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_names() {
        assert!(account_name("lumo-prod").is_ok());
        assert!(account_name(&"a".repeat(50)).is_ok());
        assert!(account_name(&"a".repeat(51)).is_err());
        assert!(account_name("").is_err());
        assert!(account_name("caf\u{e9}").is_err());
    }

    #[test]
    fn emails() {
        assert!(email("aws+lumo-dev@acme.example").is_ok());
        assert!(email("no-at-sign.example").is_err());
        assert!(email("a@b").is_err());
        assert!(email("a b@acme.example").is_err());
        assert!(email(&format!("{}@acme.example", "x".repeat(60))).is_err());
    }

    #[test]
    fn iam_names_and_paths() {
        assert!(is_iam_name("lz-watcher"));
        assert!(is_iam_name("OrganizationAccountAccessRole"));
        assert!(!is_iam_name("lz watcher"));
        assert!(!is_iam_name(&"r".repeat(65)));
        assert!(iam_path("/landing-zone/").is_ok());
        assert!(iam_path("/").is_ok());
        assert!(iam_path("landing-zone/").is_err());
        assert!(iam_path("/landing zone/").is_err());
    }

    #[test]
    fn bucket_names() {
        assert!(is_bucket_name("acme-audit-123456789012"));
        assert!(!is_bucket_name("ab"));
        assert!(!is_bucket_name("Acme-audit"));
        assert!(!is_bucket_name("acme..audit"));
        assert!(!is_bucket_name("192.168.1.10"));
        assert!(!is_bucket_name("-acme"));
        assert!(!is_bucket_name("xn--acme"));
        assert!(!is_bucket_name(&"a".repeat(64)));
    }

    #[test]
    fn region_names() {
        for ok in [
            "eu-west-3",
            "us-east-1",
            "us-gov-west-1",
            "ap-southeast-5",
            "cn-north-1",
        ] {
            assert!(is_region_name(ok), "{ok}");
        }
        for bad in [
            "eu-west",
            "EU-west-3",
            "europe",
            "eu-west-3a",
            "e-west-3",
            "",
        ] {
            assert!(!is_region_name(bad), "{bad}");
        }
    }

    #[test]
    fn tags_and_aliases() {
        assert!(tag("owner", "team-lumo").is_ok());
        assert!(tag("aws:owner", "x").is_err());
        assert!(tag("", "x").is_err());
        assert!(key_alias("lz-audit").is_ok());
        assert!(key_alias("aws/s3").is_err());
        assert!(key_alias("bad alias").is_err());
    }
}
