//! The moto harness itself works: the real SDK reaches a fresh server.

use aws_sdk_organizations::types::OrganizationFeatureSet;

use crate::support::Moto;

#[tokio::test]
async fn describe_organization_before_and_after_creating_it() {
    let moto = Moto::start();
    let org = aws_sdk_organizations::Client::new(&moto.sdk_config().await);

    let before = org.describe_organization().send().await.unwrap_err();
    let service_error = before.into_service_error();
    assert!(
        service_error.is_aws_organizations_not_in_use_exception(),
        "{service_error:?}"
    );

    let created = org
        .create_organization()
        .feature_set(OrganizationFeatureSet::All)
        .send()
        .await
        .expect("create organization")
        .organization
        .expect("an organization");

    let described = org
        .describe_organization()
        .send()
        .await
        .expect("describe organization")
        .organization
        .expect("an organization");
    assert_eq!(described.id, created.id);
    assert_eq!(described.feature_set, Some(OrganizationFeatureSet::All));
    assert_eq!(described.master_account_id.as_deref(), Some("123456789012"));
}

#[tokio::test]
async fn each_test_has_its_own_server() {
    let (a, b) = (Moto::start(), Moto::start());
    assert_ne!(a.endpoint(), b.endpoint());
    let org_a = aws_sdk_organizations::Client::new(&a.sdk_config().await);
    let org_b = aws_sdk_organizations::Client::new(&b.sdk_config().await);
    org_a
        .create_organization()
        .send()
        .await
        .expect("create in a");
    assert!(
        org_b.describe_organization().send().await.is_err(),
        "b is untouched"
    );
}
