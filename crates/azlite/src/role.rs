//! `azlite role assignment create|list|delete` and `azlite role definition list`, as
//! `az role …` with `--assignee-object-id` (the Graph-free path of az).

use std::path::Path;

use clap::Subcommand;
use reqwest::Method;
use serde_json::json;

use crate::client::{Client, flatten, flatten_list, print_json};

/// Role commands.
#[derive(Debug, Subcommand)]
pub(crate) enum RoleCommand {
    /// Role assignments.
    Assignment {
        #[command(subcommand)]
        command: AssignmentCommand,
    },
    /// Role definitions.
    Definition {
        #[command(subcommand)]
        command: DefinitionCommand,
    },
}

/// Role assignment commands.
#[derive(Debug, Subcommand)]
pub(crate) enum AssignmentCommand {
    /// Assign a role to a principal at a scope.
    Create {
        /// Object (principal) id of the assignee.
        #[arg(long)]
        assignee_object_id: String,
        /// `User`, `Group` or `ServicePrincipal`; taken from the directory when omitted.
        #[arg(long)]
        assignee_principal_type: Option<String>,
        /// Role name (e.g. Reader) or role definition id or GUID.
        #[arg(long)]
        role: String,
        /// Scope; the subscription by default.
        #[arg(long)]
        scope: Option<String>,
    },
    /// List role assignments at, above and below a scope.
    List {
        /// Only this principal's.
        #[arg(long)]
        assignee_object_id: Option<String>,
        /// Scope; the subscription by default.
        #[arg(long)]
        scope: Option<String>,
    },
    /// Delete role assignments, by id or by assignee, role and scope.
    Delete {
        /// Full role assignment ids.
        #[arg(long, num_args = 1..)]
        ids: Vec<String>,
        /// Object id of the assignee.
        #[arg(long)]
        assignee_object_id: Option<String>,
        /// Role name or id.
        #[arg(long)]
        role: Option<String>,
        /// Scope; the subscription by default.
        #[arg(long)]
        scope: Option<String>,
    },
}

/// Role definition commands.
#[derive(Debug, Subcommand)]
pub(crate) enum DefinitionCommand {
    /// List role definitions.
    List {
        /// Only the role with this name.
        #[arg(long)]
        name: Option<String>,
        /// Scope; the subscription by default.
        #[arg(long)]
        scope: Option<String>,
    },
}

/// The role definition id for a name, a GUID or a full id, as az resolves it.
async fn resolve_role(client: &Client, scope: &str, role: &str) -> anyhow::Result<String> {
    if role.len() == 36 && role.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Ok(format!(
            "{}/providers/Microsoft.Authorization/roleDefinitions/{role}",
            client.subscription()
        ));
    }
    if role
        .to_ascii_lowercase()
        .contains("/providers/microsoft.authorization/roledefinitions/")
    {
        return Ok(role.to_owned());
    }
    let path = format!(
        "{scope}/providers/Microsoft.Authorization/roleDefinitions?$filter=roleName eq '{role}'"
    );
    let found = client.arm(Method::GET, &path, None).await?;
    match found["value"].as_array().map(Vec::as_slice) {
        Some([one]) => one["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow::anyhow!("role '{role}' has no id")),
        Some([]) | None => anyhow::bail!("Role '{role}' doesn't exist."),
        Some(_) => {
            anyhow::bail!("More than one role matches the given name '{role}'. Please pick an id.")
        }
    }
}

fn role_guid(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

pub(crate) async fn run(data_dir: &Path, command: RoleCommand) -> anyhow::Result<()> {
    let client = Client::connect(data_dir).await?;
    match command {
        RoleCommand::Definition {
            command: DefinitionCommand::List { name, scope },
        } => {
            let scope = scope.unwrap_or_else(|| client.subscription());
            let filter = name
                .map(|n| format!("?$filter=roleName eq '{n}'"))
                .unwrap_or_default();
            let list = client
                .arm(
                    Method::GET,
                    &format!("{scope}/providers/Microsoft.Authorization/roleDefinitions{filter}"),
                    None,
                )
                .await?;
            print_json(&flatten_list(&list))
        }
        RoleCommand::Assignment { command } => assignment(&client, command).await,
    }
}

async fn assignment(client: &Client, command: AssignmentCommand) -> anyhow::Result<()> {
    match command {
        AssignmentCommand::Create {
            assignee_object_id,
            assignee_principal_type,
            role,
            scope,
        } => {
            let scope = scope.unwrap_or_else(|| client.subscription());
            let role_id = resolve_role(client, &scope, &role).await?;
            let mut properties =
                json!({ "roleDefinitionId": role_id, "principalId": assignee_object_id });
            if let Some(kind) = assignee_principal_type {
                properties["principalType"] = json!(kind);
            }
            let name = uuid::Uuid::new_v4();
            let path = format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}");
            let created = client
                .arm(
                    Method::PUT,
                    &path,
                    Some(&json!({ "properties": properties })),
                )
                .await?;
            print_json(&flatten(&created))
        }
        AssignmentCommand::List {
            assignee_object_id,
            scope,
        } => {
            let scope = scope.unwrap_or_else(|| client.subscription());
            let filter = assignee_object_id
                .map(|id| format!("?$filter=principalId eq '{id}'"))
                .unwrap_or_default();
            let list = client
                .arm(
                    Method::GET,
                    &format!("{scope}/providers/Microsoft.Authorization/roleAssignments{filter}"),
                    None,
                )
                .await?;
            print_json(&flatten_list(&list))
        }
        AssignmentCommand::Delete {
            ids,
            assignee_object_id,
            role,
            scope,
        } => {
            let mut targets = ids;
            if targets.is_empty() {
                let Some(principal) = assignee_object_id else {
                    anyhow::bail!(
                        "give --ids, or --assignee-object-id (with --role and --scope to narrow it)"
                    );
                };
                let scope = scope.unwrap_or_else(|| client.subscription());
                let role_id = match &role {
                    Some(role) => Some(resolve_role(client, &scope, role).await?),
                    None => None,
                };
                let path = format!(
                    "{scope}/providers/Microsoft.Authorization/roleAssignments?$filter=principalId eq '{principal}'"
                );
                let list = client.arm(Method::GET, &path, None).await?;
                for a in list["value"].as_array().into_iter().flatten() {
                    let same_scope = a["properties"]["scope"]
                        .as_str()
                        .is_some_and(|s| s.eq_ignore_ascii_case(&scope));
                    let same_role = role_id.as_deref().is_none_or(|r| {
                        a["properties"]["roleDefinitionId"]
                            .as_str()
                            .is_some_and(|d| role_guid(d).eq_ignore_ascii_case(role_guid(r)))
                    });
                    if same_scope
                        && same_role
                        && let Some(id) = a["id"].as_str()
                    {
                        targets.push(id.to_owned());
                    }
                }
                anyhow::ensure!(
                    !targets.is_empty(),
                    "No matched assignments were found to delete"
                );
            }
            for id in targets {
                client.arm(Method::DELETE, &id, None).await?;
            }
            Ok(())
        }
    }
}
