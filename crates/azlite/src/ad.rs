//! `azlite ad sp create-for-rbac|list|show|delete`, as `az ad sp …`, and
//! `grant-graph-role|revoke-graph-role` ([`crate::ad_graph_roles`]): Microsoft Graph (by
//! path, `/v1.0/…`, on the listener's IP host) with the owner's Graph token, and ARM for the
//! role assignments of `create-for-rbac --role`.
//!
//! Interface: `main.rs` holds `Ad { #[command(subcommand)] command: ad::AdCommand }` and calls
//! [`run`]. From the shared client (`crate::client`) this module uses `Client::connect`,
//! `Client::owner_token` (for Graph's scope), `Client::send`, `Client::arm`,
//! `Client::subscription`, `Client::info` and `print_json`.

use std::path::Path;

use anyhow::{Context, bail};
use clap::Subcommand;
use reqwest::Method;
use serde_json::{Value, json};

use crate::client::{Client, print_json};

/// The scope of the owner's Graph token.
const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

/// `azlite ad …`.
#[derive(Debug, Subcommand)]
pub(crate) enum AdCommand {
    /// Service principals (as `az ad sp`).
    Sp {
        #[command(subcommand)]
        command: SpCommand,
    },
}

/// `azlite ad sp …`.
#[derive(Debug, Subcommand)]
pub(crate) enum SpCommand {
    /// Create an application, its service principal and a client secret, and optionally
    /// assign it a role; prints appId, displayName, password and tenant, as az does.
    CreateForRbac {
        /// Display name of the application. An existing application of that name is reused
        /// (and gets a new secret), as az does.
        #[arg(short = 'n', long = "name", visible_alias = "display-name")]
        name: String,
        /// Role to assign: a name (Reader), a role definition GUID or a full id.
        #[arg(long, requires = "scopes")]
        role: Option<String>,
        /// Scopes of the role assignment (space separated ARM ids).
        #[arg(long, num_args = 1.., requires = "role")]
        scopes: Vec<String>,
    },
    /// List service principals.
    List {
        /// Only those whose display name starts with this.
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Show a service principal.
    Show {
        /// Object id, app id or identifier URI.
        #[arg(long)]
        id: String,
    },
    /// Delete a service principal (its application stays).
    Delete {
        /// Object id, app id or identifier URI.
        #[arg(long)]
        id: String,
    },
    /// Grant a service principal (an application's or a managed identity's) a Microsoft
    /// Graph application permission, e.g. Application.Read.All; tokens issued afterwards
    /// carry it in `roles`.
    GrantGraphRole {
        /// Object id, app (client) id or identifier URI of the principal.
        #[arg(long)]
        id: String,
        /// The permission's value (Application.Read.All) or its app role id.
        #[arg(long)]
        role: String,
    },
    /// Revoke a Microsoft Graph application permission granted with grant-graph-role.
    RevokeGraphRole {
        /// Object id, app (client) id or identifier URI of the principal.
        #[arg(long)]
        id: String,
        /// The permission's value (Application.Read.All) or its app role id.
        #[arg(long)]
        role: String,
    },
}

/// Runs an `ad` command against the running azlite of `data_dir`.
pub(crate) async fn run(data_dir: &Path, command: AdCommand) -> anyhow::Result<()> {
    let AdCommand::Sp { command } = command;
    if let SpCommand::CreateForRbac { name, scopes, .. } = &command {
        check_create_for_rbac(name, scopes)?;
    }
    let client = Client::connect(data_dir).await?;
    let directory = Directory::new(&client).await?;
    match command {
        SpCommand::CreateForRbac { name, role, scopes } => {
            create_for_rbac(&directory, &name, role.as_deref(), &scopes).await
        }
        SpCommand::List { display_name } => {
            let filter = display_name
                .map(|prefix| format!("startswith(displayName,'{}')", odata_string(&prefix)));
            let list = directory
                .list("servicePrincipals", filter.as_deref())
                .await?;
            print_json(&Value::Array(list))
        }
        SpCommand::Show { id } => print_json(&directory.find_service_principal(&id).await?),
        SpCommand::GrantGraphRole { id, role } => {
            crate::ad_graph_roles::grant(&directory, &id, &role).await
        }
        SpCommand::RevokeGraphRole { id, role } => {
            crate::ad_graph_roles::revoke(&directory, &id, &role).await
        }
        SpCommand::Delete { id } => {
            let principal = directory.find_service_principal(&id).await?;
            let object_id = principal["id"]
                .as_str()
                .context("the principal has no id")?;
            directory
                .graph(
                    Method::DELETE,
                    &format!("servicePrincipals/{object_id}"),
                    None,
                )
                .await?;
            Ok(())
        }
    }
}

/// Input checks that need no server: a name, and scopes that are ARM ids.
fn check_create_for_rbac(name: &str, scopes: &[String]) -> anyhow::Result<()> {
    if name.trim().is_empty() {
        bail!("--name must not be empty");
    }
    for scope in scopes {
        if !scope.starts_with('/') || scope.contains(char::is_whitespace) {
            bail!(
                "invalid scope '{scope}': a scope is an ARM id such as /subscriptions/{{id}} or /subscriptions/{{id}}/resourceGroups/{{name}}"
            );
        }
    }
    Ok(())
}

/// Graph, as the owner.
pub(crate) struct Directory<'a> {
    client: &'a Client,
    token: String,
}

impl<'a> Directory<'a> {
    async fn new(client: &'a Client) -> anyhow::Result<Self> {
        let token = client.owner_token(GRAPH_SCOPE).await?;
        Ok(Self { client, token })
    }

    /// Calls Graph at `/v1.0/{path}` (a path with its query already encoded).
    pub(crate) async fn graph(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let url = format!("{}/v1.0/{path}", self.client.info.https);
        self.client.send(method, &url, &self.token, body).await
    }

    /// `GET /v1.0/{collection}[?$filter=…]`: the `value` array.
    async fn list(&self, collection: &str, filter: Option<&str>) -> anyhow::Result<Vec<Value>> {
        let path = match filter {
            Some(filter) => format!("{collection}?$filter={}", percent_encode(filter)),
            None => collection.to_owned(),
        };
        let answer = self.graph(Method::GET, &path, None).await?;
        Ok(answer["value"].as_array().cloned().unwrap_or_default())
    }

    /// The service principal `id` names: by object id, app id or identifier URI, as az
    /// looks it up.
    pub(crate) async fn find_service_principal(&self, id: &str) -> anyhow::Result<Value> {
        let by_name = format!("servicePrincipalNames/any(c:c eq '{}')", odata_string(id));
        if let Some(found) = self
            .list("servicePrincipals", Some(&by_name))
            .await?
            .into_iter()
            .next()
        {
            return Ok(found);
        }
        if is_guid(id) {
            let body = json!({ "ids": [id], "types": ["servicePrincipal"] });
            let found = self
                .graph(Method::POST, "directoryObjects/getByIds", Some(&body))
                .await?;
            if let Some(found) = found["value"].as_array().and_then(|v| v.first()) {
                let mut found = found.clone();
                if let Some(object) = found.as_object_mut() {
                    object.remove("@odata.type");
                }
                return Ok(found);
            }
        }
        bail!("Service principal '{id}' doesn't exist")
    }

    /// The application named `name`, reused as az reuses it, or a new one.
    async fn application_named(&self, name: &str) -> anyhow::Result<Value> {
        let filter = format!("displayName eq '{}'", odata_string(name));
        let mut existing = self.list("applications", Some(&filter)).await?;
        match existing.len() {
            0 => {
                let body = json!({ "displayName": name });
                self.graph(Method::POST, "applications", Some(&body)).await
            }
            1 => {
                let app = existing.remove(0);
                eprintln!(
                    "Found an existing application instance: (id) {}. We will patch it.",
                    app["appId"].as_str().unwrap_or_default()
                );
                Ok(app)
            }
            n => bail!(
                "{n} applications have the display name '{name}': delete the extra ones or pick another name"
            ),
        }
    }

    /// The service principal of `app_id`, made if missing.
    async fn principal_of(&self, app_id: &str) -> anyhow::Result<Value> {
        let filter = format!("appId eq '{}'", odata_string(app_id));
        if let Some(principal) = self
            .list("servicePrincipals", Some(&filter))
            .await?
            .into_iter()
            .next()
        {
            return Ok(principal);
        }
        let body = json!({ "appId": app_id });
        self.graph(Method::POST, "servicePrincipals", Some(&body))
            .await
    }
}

/// `ad sp create-for-rbac`: application, principal and password through Graph, then the
/// role assignments through ARM.
async fn create_for_rbac(
    directory: &Directory<'_>,
    name: &str,
    role: Option<&str>,
    scopes: &[String],
) -> anyhow::Result<()> {
    let client = directory.client;
    // Resolve the role at every scope first, so a bad role or scope creates nothing.
    let mut assignments = Vec::new();
    if let Some(role) = role {
        for scope in scopes {
            assignments.push((scope, resolve_role(client, scope, role).await?));
        }
    }
    let app = directory.application_named(name).await?;
    let app_id = app["appId"]
        .as_str()
        .context("the application has no appId")?;
    let object_id = app["id"].as_str().context("the application has no id")?;
    let principal = directory.principal_of(app_id).await?;
    let principal_id = principal["id"]
        .as_str()
        .context("the service principal has no id")?;
    let body = json!({ "passwordCredential": { "displayName": "rbac" } });
    let password = directory
        .graph(
            Method::POST,
            &format!("applications/{object_id}/addPassword"),
            Some(&body),
        )
        .await?;
    let secret = password["secretText"]
        .as_str()
        .context("Graph returned no secretText")?;
    for (scope, role_id) in assignments {
        eprintln!(
            "Creating '{}' role assignment under scope '{scope}'",
            role.unwrap_or_default()
        );
        assign(client, scope, &role_id, principal_id).await?;
    }
    print_json(&json!({
        "appId": app_id,
        "displayName": app["displayName"],
        "password": secret,
        "tenant": client.info.tenant_id,
    }))
}

/// PUTs a role assignment for a service principal; one that already exists is fine, as
/// for az.
async fn assign(
    client: &Client,
    scope: &str,
    role_id: &str,
    principal_id: &str,
) -> anyhow::Result<()> {
    let name = uuid::Uuid::new_v4();
    let path = format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}");
    let body = json!({
        "properties": {
            "roleDefinitionId": role_id,
            "principalId": principal_id,
            "principalType": "ServicePrincipal",
        }
    });
    match client.arm(Method::PUT, &path, Some(&body)).await {
        Ok(_) => Ok(()),
        Err(e) if e.to_string().contains("(RoleAssignmentExists)") => {
            eprintln!("The role assignment already exists.");
            Ok(())
        }
        Err(e) => Err(e.context(format!("cannot assign the role at '{scope}'"))),
    }
}

/// The role definition id for a name, a GUID or a full id, as az resolves it.
async fn resolve_role(client: &Client, scope: &str, role: &str) -> anyhow::Result<String> {
    if is_guid(role) {
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
    let filter = format!("roleName eq '{}'", odata_string(role));
    let path = format!(
        "{scope}/providers/Microsoft.Authorization/roleDefinitions?$filter={}",
        percent_encode(&filter)
    );
    let found = client.arm(Method::GET, &path, None).await?;
    match found["value"].as_array().map(Vec::as_slice) {
        Some([one]) => one["id"]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("role '{role}' has no id")),
        Some([]) | None => bail!("Role '{role}' doesn't exist."),
        Some(_) => bail!("More than one role matches the given name '{role}'. Please pick an id."),
    }
}

/// A GUID in its 8-4-4-4-12 form.
fn is_guid(text: &str) -> bool {
    text.len() == 36 && uuid::Uuid::parse_str(text).is_ok()
}

/// `text` inside an OData string literal: `'` doubled.
fn odata_string(text: &str) -> String {
    text.replace('\'', "''")
}

/// Percent-encodes a query value (everything but RFC 3986's unreserved characters).
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odata_literals_and_queries_are_escaped() {
        assert_eq!(odata_string("it's"), "it''s");
        assert_eq!(
            percent_encode("displayName eq 'a&b'"),
            "displayName%20eq%20%27a%26b%27"
        );
    }

    #[test]
    fn create_for_rbac_checks_its_input_before_calling_anything() {
        assert!(check_create_for_rbac("ci", &["/subscriptions/x".into()]).is_ok());
        assert!(check_create_for_rbac(" ", &[]).is_err());
        let err = check_create_for_rbac("ci", &["subscriptions/x".into()]).unwrap_err();
        assert!(err.to_string().contains("invalid scope"), "{err}");
    }
}
