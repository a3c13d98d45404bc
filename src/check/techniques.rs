//! The escalation techniques as data: which actions start compute with a passed role, which run
//! code on compute that exists, and the probes that tell an administrator and a writer. The
//! escalation graph reads them, and `lz-boundary` denies the existing-compute actions, so a
//! technique added here is both searched for and closed.

use std::collections::BTreeSet;

/// Services that run a role passed to them, and what starts that compute.
pub const PASS_ROLE_TO_COMPUTE: &[(&str, &[&str])] = &[
    ("ec2.amazonaws.com", &["ec2:RunInstances"]),
    (
        "lambda.amazonaws.com",
        &["lambda:CreateFunction", "lambda:InvokeFunction"],
    ),
    (
        "lambda.amazonaws.com",
        &["lambda:CreateFunction", "lambda:CreateEventSourceMapping"],
    ),
    (
        "cloudformation.amazonaws.com",
        &["cloudformation:CreateStack"],
    ),
    ("glue.amazonaws.com", &["glue:CreateDevEndpoint"]),
    (
        "glue.amazonaws.com",
        &["glue:CreateJob", "glue:StartJobRun"],
    ),
    (
        "ecs-tasks.amazonaws.com",
        &["ecs:RegisterTaskDefinition", "ecs:RunTask"],
    ),
    (
        "sagemaker.amazonaws.com",
        &[
            "sagemaker:CreateNotebookInstance",
            "sagemaker:CreatePresignedNotebookInstanceUrl",
        ],
    ),
    ("sagemaker.amazonaws.com", &["sagemaker:CreateTrainingJob"]),
    (
        "sagemaker.amazonaws.com",
        &["sagemaker:CreateProcessingJob"],
    ),
    (
        "codebuild.amazonaws.com",
        &["codebuild:CreateProject", "codebuild:StartBuild"],
    ),
    (
        "datapipeline.amazonaws.com",
        &[
            "datapipeline:CreatePipeline",
            "datapipeline:PutPipelineDefinition",
            "datapipeline:ActivatePipeline",
        ],
    ),
];

/// Actions that run code of one's choice on compute that already exists, as the role that
/// compute carries. No `iam:PassRole` is involved, so only denying these actions closes them.
pub const EXISTING_COMPUTE: &[(&str, &[&str])] = &[
    (
        "ec2.amazonaws.com",
        &[
            "ssm:SendCommand",
            "ssm:StartSession",
            "ssm:CreateAssociation",
            "ssm:UpdateAssociation",
            "ec2-instance-connect:SendSSHPublicKey",
            "ec2-instance-connect:SendSerialConsoleSSHPublicKey",
            "ec2:ModifyInstanceAttribute",
            "ec2:CreateLaunchTemplateVersion",
            "ec2:ModifyLaunchTemplate",
            "elasticmapreduce:AddJobFlowSteps",
        ],
    ),
    (
        "lambda.amazonaws.com",
        &[
            "lambda:UpdateFunctionCode",
            "lambda:UpdateFunctionConfiguration",
        ],
    ),
    (
        "glue.amazonaws.com",
        &[
            "glue:UpdateDevEndpoint",
            "glue:UpdateJob",
            "glue:StartJobRun",
        ],
    ),
    (
        "codebuild.amazonaws.com",
        &[
            "codebuild:StartBuild",
            "codebuild:StartBuildBatch",
            "codebuild:RetryBuild",
            "codebuild:RetryBuildBatch",
            "codebuild:UpdateProject",
        ],
    ),
    (
        "cloudformation.amazonaws.com",
        &[
            "cloudformation:UpdateStack",
            "cloudformation:CreateChangeSet",
        ],
    ),
    (
        "sagemaker.amazonaws.com",
        &[
            "sagemaker:CreatePresignedNotebookInstanceUrl",
            "sagemaker:CreatePresignedDomainUrl",
            "sagemaker:UpdateNotebookInstanceLifecycleConfig",
        ],
    ),
    (
        "ecs-tasks.amazonaws.com",
        &["ecs:ExecuteCommand", "batch:SubmitJob"],
    ),
    (
        "states.amazonaws.com",
        &["states:UpdateStateMachine", "states:StartExecution"],
    ),
    (
        "servicecatalog.amazonaws.com",
        &[
            "servicecatalog:ProvisionProduct",
            "servicecatalog:UpdateProvisionedProduct",
        ],
    ),
];

/// Every action of [`EXISTING_COMPUTE`], for policies that deny them.
pub fn existing_compute_actions() -> BTreeSet<&'static str> {
    EXISTING_COMPUTE
        .iter()
        .flat_map(|(_, actions)| actions.iter().copied())
        .collect()
}

/// Requests an administrator can make; a principal allowed all of them is one.
pub(super) const ADMIN_PROBES: &[(&str, &str)] = &[
    // A made-up action: only `*` (or a NotAction) grants it.
    ("lzcheck:AnyAction", "*"),
    ("iam:CreateUser", "arn:aws:iam::{a}:user/lz-check-probe"),
    ("iam:PutRolePolicy", "arn:aws:iam::{a}:role/lz-check-probe"),
    (
        "iam:AttachRolePolicy",
        "arn:aws:iam::{a}:role/lz-check-probe",
    ),
    (
        "iam:UpdateAssumeRolePolicy",
        "arn:aws:iam::{a}:role/lz-check-probe",
    ),
    (
        "iam:CreatePolicyVersion",
        "arn:aws:iam::{a}:policy/lz-check-probe",
    ),
    ("sts:AssumeRole", "arn:aws:iam::{a}:role/lz-check-probe"),
    ("organizations:LeaveOrganization", "*"),
    ("s3:PutBucketPolicy", "arn:aws:s3:::lz-check-probe"),
    (
        "kms:PutKeyPolicy",
        "arn:aws:kms:us-east-1:{a}:key/00000000-0000-0000-0000-000000000000",
    ),
    (
        "ec2:RunInstances",
        "arn:aws:ec2:us-east-1:{a}:instance/i-0000000000000000",
    ),
    (
        "cloudtrail:StopLogging",
        "arn:aws:cloudtrail:us-east-1:{a}:trail/lz-check-probe",
    ),
];

/// Writes a read-only principal must not be allowed (probes across services).
pub(super) const WRITE_PROBES: &[(&str, &str)] = &[
    ("s3:PutObject", "arn:aws:s3:::lz-check-probe/key"),
    ("s3:DeleteObject", "arn:aws:s3:::lz-check-probe/key"),
    ("s3:PutBucketPolicy", "arn:aws:s3:::lz-check-probe"),
    (
        "ec2:RunInstances",
        "arn:aws:ec2:us-east-1:{a}:instance/i-0000000000000000",
    ),
    (
        "ec2:TerminateInstances",
        "arn:aws:ec2:us-east-1:{a}:instance/i-0000000000000000",
    ),
    ("iam:CreateRole", "arn:aws:iam::{a}:role/lz-check-probe"),
    ("iam:PutRolePolicy", "arn:aws:iam::{a}:role/lz-check-probe"),
    (
        "lambda:UpdateFunctionCode",
        "arn:aws:lambda:us-east-1:{a}:function:lz-check-probe",
    ),
    (
        "dynamodb:PutItem",
        "arn:aws:dynamodb:us-east-1:{a}:table/lz-check-probe",
    ),
    (
        "kms:ScheduleKeyDeletion",
        "arn:aws:kms:us-east-1:{a}:key/00000000-0000-0000-0000-000000000000",
    ),
    ("ssm:SendCommand", "*"),
    (
        "secretsmanager:PutSecretValue",
        "arn:aws:secretsmanager:us-east-1:{a}:secret:lz-check-probe",
    ),
    (
        "cloudtrail:StopLogging",
        "arn:aws:cloudtrail:us-east-1:{a}:trail/lz-check-probe",
    ),
    ("organizations:LeaveOrganization", "*"),
];
