//! Tenants, subscriptions, the provider catalogue and `/metadata/endpoints`.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use azlite_store::Subscription;
use azlite_types::{ResourceId, SubscriptionId};
use serde_json::{Value, json};

use crate::wire::json;
use crate::{Arm, ArmConfig, ArmError, Caller};

const SUBSCRIPTION_READ: &str = "Microsoft.Resources/subscriptions/read";

/// The subscription `id`, which must exist and trust the caller's tenant.
pub(crate) async fn subscription_for(
    arm: &Arm,
    caller: &Caller,
    id: SubscriptionId,
) -> Result<Subscription, ArmError> {
    let subscription = arm.store.get_subscription(id).await?.ok_or_else(|| {
        ArmError::not_found(
            "SubscriptionNotFound",
            format!("The subscription '{id}' could not be found."),
        )
    })?;
    if subscription.tenant_id != caller.tenant_id {
        return Err(ArmError::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationTokenTenant",
            format!(
                "The access token is from the wrong issuer 'https://sts.windows.net/{}/'. It must match the tenant 'https://sts.windows.net/{}/' associated with this subscription. Please use the authority (URL) 'https://login.windows.net/{}' to get the token.",
                caller.tenant_id, subscription.tenant_id, subscription.tenant_id
            ),
        ));
    }
    Ok(subscription)
}

fn subscription_json(s: &Subscription) -> Value {
    json!({
        "id": format!("/subscriptions/{}", s.id),
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": s.id,
        "tenantId": s.tenant_id,
        "displayName": s.display_name,
        "state": s.state,
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
    })
}

/// `GET /tenants`: the caller's tenant.
pub(crate) async fn list_tenants(arm: &Arm, caller: &Caller) -> Result<Response, ArmError> {
    let value: Vec<Value> = arm
        .store
        .get_tenant(caller.tenant_id)
        .await?
        .into_iter()
        .map(|t| {
            json!({
                "id": format!("/tenants/{}", t.id),
                "tenantId": t.id,
                "tenantCategory": "Home",
                "displayName": t.display_name,
                "defaultDomain": t.default_domain,
                "domains": [t.default_domain],
                "countryCode": "US",
                "tenantType": "AAD",
            })
        })
        .collect();
    Ok(json(StatusCode::OK, json!({ "value": value })))
}

/// Whether `caller` sees subscription `id` in `GET /subscriptions`: it may read the
/// subscription, or it holds a role assignment anywhere inside it. Azure lists a
/// subscription to a VM identity with Reader on one group, or to a service principal made by
/// `az ad sp create-for-rbac --scopes <group>` (`az login` fails with "No subscriptions
/// found" otherwise); what such a caller may then do inside it is still decided per request.
pub(crate) fn sees_subscription(arm: &Arm, caller: &Caller, id: SubscriptionId) -> bool {
    let scope = ResourceId::subscription(id);
    arm.can(caller, &scope, SUBSCRIPTION_READ)
        || arm.has_assignment_within(caller.object_id, &scope)
}

/// `GET /subscriptions/{s}` and the provider catalogue are refused, as ARM refuses them, to a
/// caller that does not see the subscription (403 `AuthorizationFailed` for the read action).
fn require_sees_subscription(
    arm: &Arm,
    caller: &Caller,
    id: SubscriptionId,
) -> Result<(), ArmError> {
    if sees_subscription(arm, caller, id) {
        return Ok(());
    }
    arm.authorize(caller, &ResourceId::subscription(id), SUBSCRIPTION_READ)
        .map(|_| ())
}

/// `GET /subscriptions`: the subscriptions of the caller's tenant it sees.
pub(crate) async fn list_subscriptions(arm: &Arm, caller: &Caller) -> Result<Response, ArmError> {
    let value: Vec<Value> = arm
        .store
        .list_subscriptions()
        .await?
        .iter()
        .filter(|s| s.tenant_id == caller.tenant_id)
        .filter(|s| sees_subscription(arm, caller, s.id))
        .map(subscription_json)
        .collect();
    Ok(json(StatusCode::OK, json!({ "value": value })))
}

/// `GET /subscriptions/{s}`.
pub(crate) async fn get_subscription(
    arm: &Arm,
    caller: &Caller,
    id: SubscriptionId,
) -> Result<Response, ArmError> {
    require_sees_subscription(arm, caller, id)?;
    let subscription = subscription_for(arm, caller, id).await?;
    Ok(json(StatusCode::OK, subscription_json(&subscription)))
}

/// The resource types azlite serves or will serve, per namespace (newest api-version first,
/// as ARM lists them; the az CLI picks the first non-preview one).
/// A resource type and its api-versions, newest first.
type ResourceType = (&'static str, &'static [&'static str]);

const PROVIDERS: &[(&str, &[ResourceType])] = &[
    (
        "Microsoft.Resources",
        &[
            (
                "resourceGroups",
                &[
                    "2024-11-01",
                    "2022-09-01",
                    "2021-04-01",
                    "2019-10-01",
                    "2016-09-01",
                ],
            ),
            ("subscriptions", &["2022-12-01", "2020-01-01", "2016-06-01"]),
            ("tenants", &["2022-12-01", "2020-01-01"]),
        ],
    ),
    (
        "Microsoft.Authorization",
        &[
            (
                "roleAssignments",
                &[
                    "2022-04-01",
                    "2020-04-01-preview",
                    "2018-09-01-preview",
                    "2015-07-01",
                ],
            ),
            (
                "roleDefinitions",
                &["2022-04-01", "2018-01-01-preview", "2015-07-01"],
            ),
            ("permissions", &["2022-04-01", "2015-07-01"]),
        ],
    ),
    (
        "Microsoft.ManagedIdentity",
        &[(
            "userAssignedIdentities",
            &[
                "2024-11-30",
                "2023-01-31",
                "2018-11-30",
                "2015-08-31-preview",
            ],
        )],
    ),
    (
        "Microsoft.Compute",
        &[
            (
                "virtualMachines",
                &[
                    "2024-11-01",
                    "2024-07-01",
                    "2023-09-01",
                    "2018-06-01",
                    "2017-12-01",
                ],
            ),
            (
                "virtualMachineScaleSets",
                &[
                    "2024-11-01",
                    "2024-07-01",
                    "2023-09-01",
                    "2018-06-01",
                    "2017-12-01",
                ],
            ),
            (
                "virtualMachineScaleSets/virtualMachines",
                &["2024-11-01", "2024-07-01", "2023-09-01", "2018-06-01"],
            ),
        ],
    ),
    (
        "Microsoft.Storage",
        &[(
            "storageAccounts",
            &["2023-05-01", "2023-01-01", "2021-09-01", "2019-06-01"],
        )],
    ),
    (
        "Microsoft.KeyVault",
        &[
            (
                "vaults",
                &[
                    "2026-05-15",
                    "2025-05-01",
                    "2023-07-01",
                    "2022-07-01",
                    "2019-09-01",
                    "2018-02-14",
                ],
            ),
            (
                "checkNameAvailability",
                &[
                    "2026-05-15",
                    "2025-05-01",
                    "2023-07-01",
                    "2022-07-01",
                    "2019-09-01",
                ],
            ),
            (
                "deletedVaults",
                &["2026-05-15", "2025-05-01", "2023-07-01", "2022-07-01"],
            ),
            (
                "deletedManagedHSMs",
                &["2026-05-15", "2025-05-01", "2023-07-01", "2022-07-01"],
            ),
            (
                "locations/deletedVaults",
                &["2026-05-15", "2025-05-01", "2023-07-01", "2022-07-01"],
            ),
        ],
    ),
    ("Microsoft.DataLakeStore", &[("accounts", &["2016-11-01"])]),
];

/// The error for a well-formed path of a type azlite does not serve (`Namespace/type[/…]`):
/// ARM's `InvalidResourceType` when azlite serves the namespace, `NoRegisteredProviderFound`
/// when it does not; both name what is served rather than blame the api-version.
pub(crate) fn unsupported_type(resource_type: &str) -> ArmError {
    let (namespace, types) = resource_type.split_once('/').unwrap_or((resource_type, ""));
    match PROVIDERS
        .iter()
        .find(|(ns, _)| ns.eq_ignore_ascii_case(namespace))
    {
        Some((ns, served)) => {
            let names: Vec<&str> = served.iter().map(|(t, _)| *t).collect();
            ArmError::bad_request(
                "InvalidResourceType",
                format!(
                    "The resource type '{types}' could not be found in the namespace '{ns}'. azlite serves these types of it: '{}'.",
                    names.join("', '")
                ),
            )
        }
        None => {
            let namespaces: Vec<&str> = PROVIDERS.iter().map(|(ns, _)| *ns).collect();
            ArmError::bad_request(
                "NoRegisteredProviderFound",
                format!(
                    "No registered resource provider found for type '{resource_type}': azlite does not serve the namespace '{namespace}'. It serves '{}'.",
                    namespaces.join("', '")
                ),
            )
        }
    }
}

fn provider_json(
    subscription: SubscriptionId,
    namespace: &str,
    types: &[(&str, &[&str])],
) -> Value {
    json!({
        "id": format!("/subscriptions/{subscription}/providers/{namespace}"),
        "namespace": namespace,
        "registrationState": "Registered",
        "registrationPolicy": "RegistrationRequired",
        "resourceTypes": types.iter().map(|(t, versions)| json!({
            "resourceType": t,
            "locations": [],
            "apiVersions": versions,
        })).collect::<Vec<_>>(),
    })
}

/// `GET /subscriptions/{s}/providers`.
pub(crate) async fn list_providers(
    arm: &Arm,
    caller: &Caller,
    id: SubscriptionId,
) -> Result<Response, ArmError> {
    require_sees_subscription(arm, caller, id)?;
    subscription_for(arm, caller, id).await?;
    let value: Vec<Value> = PROVIDERS
        .iter()
        .map(|(ns, types)| provider_json(id, ns, types))
        .collect();
    Ok(json(StatusCode::OK, json!({ "value": value })))
}

/// `GET /subscriptions/{s}/providers/{ns}` (and `POST …/register`, which has nothing to do:
/// every provider is registered).
pub(crate) async fn get_provider(
    arm: &Arm,
    caller: &Caller,
    id: SubscriptionId,
    namespace: &str,
) -> Result<Response, ArmError> {
    require_sees_subscription(arm, caller, id)?;
    subscription_for(arm, caller, id).await?;
    let Some((name, types)) = PROVIDERS
        .iter()
        .find(|(ns, _)| ns.eq_ignore_ascii_case(namespace))
    else {
        return Err(ArmError::not_found(
            "InvalidResourceNamespace",
            format!("The resource namespace '{namespace}' is invalid."),
        ));
    };
    Ok(json(StatusCode::OK, provider_json(id, name, types)))
}

/// `GET /metadata/endpoints`: what `az cloud register --endpoint-resource-manager` reads.
/// Endpoint URLs use the host the client called when it is not one of Azure's names, so a
/// cloud registered at `https://127.0.0.1:8443` stays there.
pub(crate) fn metadata_endpoints(config: &ArmConfig, headers: &HeaderMap) -> Response {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    // Reached by IP address or `localhost`, the endpoints are that listener; reached by one of
    // Azure's names, they are Azure's names (which resolve to azlite where it is reached so).
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    let by_ip = host.is_empty()
        || name.eq_ignore_ascii_case("localhost")
        || name.parse::<std::net::IpAddr>().is_ok();
    let (arm, login, graph) = if by_ip {
        let base = format!("https://{host}/");
        (base.clone(), base.clone(), base)
    } else {
        (
            format!("https://{}/", config.management_host),
            format!("https://{}/", config.login_host),
            format!("https://{}/", config.graph_host),
        )
    };
    json(
        StatusCode::OK,
        json!({
            "name": "azlite",
            "portal": "https://portal.azure.com",
            "resourceManager": arm,
            "authentication": {
                "loginEndpoint": login,
                "audiences": ["https://management.core.windows.net/", "https://management.azure.com/"],
                "tenant": "common",
                "identityProvider": "AAD",
            },
            "graph": "https://graph.windows.net/",
            "graphAudience": "https://graph.windows.net/",
            "microsoftGraphResourceId": graph,
            "activeDirectoryDataLake": "https://datalake.azure.net/",
            "suffixes": {
                "storage": config.storage_suffix,
                "keyVaultDns": config.vault_suffix,
                "azureDataLakeStoreFileSystem": config.datalake_suffix,
            },
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoints_for(host: &str) -> Value {
        let config = ArmConfig {
            login_host: "login.microsoftonline.com".into(),
            management_host: "management.azure.com".into(),
            graph_host: "graph.microsoft.com".into(),
            storage_suffix: "core.windows.net".into(),
            vault_suffix: "vault.azure.net".into(),
            datalake_suffix: "azuredatalakestore.net".into(),
        };
        let mut headers = HeaderMap::new();
        headers.insert(axum::http::header::HOST, host.parse().unwrap());
        let response = metadata_endpoints(&config, &headers);
        let body = body_of(response);
        serde_json::from_slice(&body).unwrap()
    }

    fn body_of(response: Response) -> Vec<u8> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            axum::body::to_bytes(response.into_body(), 1 << 16)
                .await
                .unwrap()
                .to_vec()
        })
    }

    #[test]
    fn unserved_types_name_what_is_served_not_the_api_version() {
        let in_served_namespace = unsupported_type("microsoft.keyvault/managedHSMs");
        assert_eq!(in_served_namespace.code, "InvalidResourceType");
        assert!(
            in_served_namespace.message.contains("'managedHSMs'")
                && in_served_namespace.message.contains("'vaults'")
                && !in_served_namespace.message.contains("api"),
            "{}",
            in_served_namespace.message
        );
        let elsewhere = unsupported_type("Microsoft.Sql/servers");
        assert_eq!(elsewhere.code, "NoRegisteredProviderFound");
        assert!(
            elsewhere.message.contains("'Microsoft.Sql'") && !elsewhere.message.contains("api"),
            "{}",
            elsewhere.message
        );
    }

    #[test]
    fn endpoints_name_the_listener_when_reached_by_address_and_azure_otherwise() {
        assert_eq!(
            endpoints_for("127.0.0.1:8443")["resourceManager"],
            "https://127.0.0.1:8443/"
        );
        assert_eq!(
            endpoints_for("[::1]:8443")["authentication"]["loginEndpoint"],
            "https://[::1]:8443/"
        );
        assert_eq!(
            endpoints_for("localhost:8443")["resourceManager"],
            "https://localhost:8443/"
        );
        let azure = endpoints_for("management.core.windows.net");
        assert_eq!(azure["resourceManager"], "https://management.azure.com/");
        assert_eq!(
            azure["authentication"]["loginEndpoint"],
            "https://login.microsoftonline.com/"
        );
    }
}
