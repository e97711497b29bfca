//! `azlite ad sp grant-graph-role|revoke-graph-role`: grant a service principal (an app's or
//! a managed identity's) one of Microsoft Graph's application permissions, or take it back,
//! as an administrator does in Entra with `POST /servicePrincipals/{id}/appRoleAssignments`
//! (az has no verb for it; the tutorials use `az rest` or PowerShell). The role is named by
//! its value (`Application.Read.All`) or its id, and looked up among Graph's `appRoles`.

use anyhow::{Context, bail};
use reqwest::Method;
use serde_json::{Value, json};

use crate::ad::Directory;
use crate::client::print_json;

/// Microsoft Graph's app id.
const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// Microsoft Graph's service principal and the id of its app role `role` (a value or an id).
async fn graph_role(directory: &Directory<'_>, role: &str) -> anyhow::Result<(Value, String)> {
    let graph = directory
        .graph(
            Method::GET,
            &format!("servicePrincipals(appId='{GRAPH_APP_ID}')"),
            None,
        )
        .await?;
    let roles = graph["appRoles"].as_array().cloned().unwrap_or_default();
    let found = roles.iter().find(|r| {
        r["value"]
            .as_str()
            .is_some_and(|v| v.eq_ignore_ascii_case(role))
            || r["id"]
                .as_str()
                .is_some_and(|id| id.eq_ignore_ascii_case(role))
    });
    let Some(found) = found else {
        let known: Vec<&str> = roles.iter().filter_map(|r| r["value"].as_str()).collect();
        bail!(
            "Microsoft Graph has no app role '{role}'; azlite serves: {}",
            known.join(", ")
        );
    };
    let id = found["id"]
        .as_str()
        .context("the app role has no id")?
        .to_owned();
    Ok((graph, id))
}

/// The principal's object id and its assignments.
async fn assignments_of(
    directory: &Directory<'_>,
    id: &str,
) -> anyhow::Result<(String, Vec<Value>)> {
    let principal = directory.find_service_principal(id).await?;
    let object_id = principal["id"]
        .as_str()
        .context("the service principal has no id")?
        .to_owned();
    let held = directory
        .graph(
            Method::GET,
            &format!("servicePrincipals/{object_id}/appRoleAssignments"),
            None,
        )
        .await?;
    Ok((
        object_id,
        held["value"].as_array().cloned().unwrap_or_default(),
    ))
}

/// `grant-graph-role`: prints the assignment (the existing one if already granted).
pub(crate) async fn grant(directory: &Directory<'_>, id: &str, role: &str) -> anyhow::Result<()> {
    let (graph, role_id) = graph_role(directory, role).await?;
    let (object_id, held) = assignments_of(directory, id).await?;
    if let Some(existing) = held
        .into_iter()
        .find(|a| a["appRoleId"] == role_id.as_str() && a["resourceId"] == graph["id"])
    {
        eprintln!("The principal already holds this role.");
        return print_json(&existing);
    }
    let body = json!({
        "principalId": object_id,
        "resourceId": graph["id"],
        "appRoleId": role_id,
    });
    let granted = directory
        .graph(
            Method::POST,
            &format!("servicePrincipals/{object_id}/appRoleAssignments"),
            Some(&body),
        )
        .await?;
    print_json(&granted)
}

/// `revoke-graph-role`: deletes the assignment; one that does not exist is an error.
pub(crate) async fn revoke(directory: &Directory<'_>, id: &str, role: &str) -> anyhow::Result<()> {
    let (graph, role_id) = graph_role(directory, role).await?;
    let (object_id, held) = assignments_of(directory, id).await?;
    let Some(assignment) = held
        .iter()
        .find(|a| a["appRoleId"] == role_id.as_str() && a["resourceId"] == graph["id"])
    else {
        bail!("The service principal '{id}' does not hold '{role}'.");
    };
    let assignment_id = assignment["id"]
        .as_str()
        .context("the assignment has no id")?;
    directory
        .graph(
            Method::DELETE,
            &format!("servicePrincipals/{object_id}/appRoleAssignments/{assignment_id}"),
            None,
        )
        .await?;
    Ok(())
}
