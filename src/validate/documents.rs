//! The blueprint's own guardrails, read from their JSON files (relative to the blueprint's
//! directory) into the blueprint. A file that does not parse, or a document AWS would refuse
//! for its type, is reported in that file, at its line and column; a file that cannot be read
//! is reported at the blueprint's field that names it.

use std::path::Path;
use std::sync::Arc;

use super::{Diagnostic, FieldPath, IncludedFile, Problem};
use crate::blueprint::{Blueprint, UserPolicyType};
use crate::policy::{Effect, PolicyDocument, Principal};
use crate::yaml::{self, Pos};

/// Reads every policy file into `bp`: problems in the blueprint, then diagnostics in files.
pub(super) fn load(bp: &mut Blueprint, base: &Path) -> (Vec<Problem>, Vec<Diagnostic>) {
    let (mut problems, mut diagnostics) = (Vec::new(), Vec::new());
    for (i, policy) in bp.guardrails.policies.iter_mut().enumerate() {
        let path = base.join(&policy.file);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => {
                let at = FieldPath::root()
                    .key("guardrails")
                    .key("policies")
                    .index(i)
                    .key("file");
                problems.push(Problem::at_value(
                    at,
                    format!("cannot read `{}`: {e}", path.display()),
                ));
                continue;
            }
        };
        let file = Arc::new(IncludedFile {
            path,
            text: Arc::from(text.as_str()),
        });
        let in_file = |pos: Pos, path: String, message: String, hint: Option<String>| Diagnostic {
            pos,
            path,
            message: yaml::shorten(&message, usize::MAX),
            hint,
            file: Some(file.clone()),
        };
        let document: PolicyDocument = match serde_json::from_str(&text) {
            Ok(document) => document,
            Err(e) => {
                let pos = Pos {
                    line: u32::try_from(e.line()).unwrap_or(u32::MAX).max(1),
                    column: u32::try_from(e.column()).unwrap_or(u32::MAX).max(1),
                    offset: None,
                };
                // serde_json ends its message with the position, which the diagnostic has.
                let message = e.to_string();
                let message = message
                    .rsplit_once(" at line ")
                    .map_or(message.as_str(), |(m, _)| m)
                    .to_owned();
                diagnostics.push(in_file(
                    pos,
                    String::new(),
                    format!("not an IAM policy document: {message}"),
                    Some("a guardrail's file holds one JSON policy document".to_owned()),
                ));
                continue;
            }
        };
        let positions = yaml::read(&text).ok().map(|(_, positions)| positions);
        let mut bad = false;
        for (n, problem, hint) in refused(&document, policy.policy_type) {
            let pointer = match n {
                Some(n) => format!("/Statement/{n}"),
                None => "/Statement".to_owned(),
            };
            let pos = positions
                .as_ref()
                .map_or(Pos::START, |p| p.value_pos(&pointer));
            let path = n.map_or_else(|| "Statement".to_owned(), |n| format!("Statement[{n}]"));
            diagnostics.push(in_file(pos, path, problem, Some(hint.to_owned())));
            bad = true;
        }
        if !bad {
            policy.document = Some(document);
        }
    }
    (problems, diagnostics)
}

/// What AWS would refuse in a document of `policy_type`: (statement index, why, hint).
fn refused(
    document: &PolicyDocument,
    policy_type: UserPolicyType,
) -> Vec<(Option<usize>, String, &'static str)> {
    let mut out = Vec::new();
    if document.iter().next().is_none() {
        out.push((
            None,
            "the policy has no statement".to_owned(),
            "add at least one statement",
        ));
    }
    for (n, s) in document.iter().enumerate() {
        let everyone = matches!(s.principal, Some(Principal::Any(_)));
        match policy_type {
            UserPolicyType::ServiceControl
                if s.principal.is_some() || s.not_principal.is_some() =>
            {
                out.push((
                    Some(n),
                    "a service control policy's statement names no `Principal`".to_owned(),
                    "an SCP binds the principals of the accounts it is attached to; remove `Principal`",
                ));
            }
            UserPolicyType::ResourceControl if !everyone || s.not_principal.is_some() => {
                out.push((
                    Some(n),
                    "a resource control policy's statement needs `\"Principal\": \"*\"`".to_owned(),
                    "narrow who is denied with conditions (`aws:PrincipalOrgID`, `aws:PrincipalArn`)",
                ));
            }
            UserPolicyType::ResourceControl if s.effect == Effect::Allow => {
                out.push((
                    Some(n),
                    "a resource control policy only denies".to_owned(),
                    "AWS attaches `RCPFullAWSAccess` itself; write `\"Effect\": \"Deny\"`",
                ));
            }
            _ => {}
        }
    }
    out
}
