//! Data Lake Store Gen1 over HTTPS on the account's host name: the tutorial's steps, the
//! ACL model enforced on every operation, the 401/403/404 policy, the curl redirects,
//! APPEND's offsets with concurrent appenders, and what survives a restart.

use std::collections::BTreeMap;
use std::sync::Arc;

use azlite_store::{Resource, ResourceGroup, WriteBatch};
use azlite_testkit::{TestCloud, oid};
use serde_json::{Value, json};

const DATALAKE: &str = "https://datalake.azure.net/";
const ACCOUNT: &str = "tutorialdls";

/// A client that reaches `<account>.azuredatalakestore.net` at the test listener, and
/// never follows redirects (the tests look at them).
fn client(cloud: &TestCloud) -> reqwest::Client {
    cloud.client_for(&format!("{ACCOUNT}.azuredatalakestore.net"))
}

/// The account, written to the store as ARM writes it.
async fn create_account(cloud: &TestCloud) -> String {
    let subscription = cloud.info.subscription_id.parse().unwrap();
    let group = ResourceGroup {
        subscription_id: subscription,
        name: "dls-rg".into(),
        location: "eastus2".into(),
        tags: BTreeMap::new(),
        managed_by: None,
        created_at: 0,
        updated_at: 0,
    };
    let id = format!(
        "/subscriptions/{}/resourceGroups/dls-rg/providers/Microsoft.DataLakeStore/accounts/{ACCOUNT}",
        cloud.info.subscription_id
    );
    let resource = Resource {
        id: id.parse().unwrap(),
        subscription_id: subscription,
        resource_group: "dls-rg".into(),
        resource_type: "Microsoft.DataLakeStore/accounts".into(),
        name: ACCOUNT.into(),
        location: "eastus2".into(),
        tags: BTreeMap::new(),
        body: json!({ "properties": { "endpoint": format!("{ACCOUNT}.azuredatalakestore.net") } }),
        created_at: 0,
        updated_at: 0,
    };
    cloud
        .store
        .apply(WriteBatch {
            resource_groups: vec![group],
            resources: vec![resource],
            ..Default::default()
        })
        .await
        .unwrap();
    id
}

/// A service principal and a v1 token of it for Data Lake (what IMDS gives a VM).
async fn principal(cloud: &TestCloud, name: &str) -> (String, String) {
    let owner = cloud.owner_arm_token().await;
    let app: Value = cloud
        .http
        .post(cloud.url("/azlite/admin/applications"))
        .bearer_auth(&owner)
        .json(&json!({ "displayName": name, "password": true }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let response: Value = cloud
        .http
        .post(cloud.url(&format!("/{}/oauth2/token", cloud.info.tenant_id)))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", app["appId"].as_str().unwrap()),
            ("client_secret", app["password"].as_str().unwrap()),
            ("resource", DATALAKE),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        app["servicePrincipalObjectId"].as_str().unwrap().to_owned(),
        response["access_token"].as_str().unwrap().to_owned(),
    )
}

struct Lake {
    http: reqwest::Client,
}

impl Lake {
    fn url(path_and_query: &str) -> String {
        format!("https://{ACCOUNT}.azuredatalakestore.net/webhdfs/v1{path_and_query}")
    }

    async fn call(
        &self,
        token: &str,
        method: &str,
        path_and_query: &str,
        body: Vec<u8>,
    ) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let response = self
            .http
            .request(method.parse().unwrap(), Self::url(path_and_query))
            .bearer_auth(token)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.bytes().await.unwrap().to_vec())
    }

    async fn json(&self, token: &str, method: &str, path_and_query: &str) -> (u16, Value) {
        let (status, _, body) = self.call(token, method, path_and_query, Vec::new()).await;
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }
}

/// How many files (not folders) are under `dir`.
fn files_under(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| if p.is_dir() { files_under(&p) } else { 1 })
        .sum()
}

fn exception(body: &Value) -> &str {
    body["RemoteException"]["exception"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn the_tutorial_as_written_with_the_acl_model_enforced() {
    let cloud = TestCloud::start().await.unwrap();
    create_account(&cloud).await;
    let lake = Lake {
        http: client(&cloud),
    };
    let owner = cloud.owner_v1_token(DATALAKE).await.unwrap();
    let (vm, token) = principal(&cloud, "vm-identity").await;

    // The owner (RBAC Owner: a superuser) makes the folder, as in the portal.
    assert_eq!(
        lake.json(&owner, "PUT", "/TestFolder?op=MKDIRS").await,
        (200, json!({"boolean": true}))
    );
    // Before any grant, the identity may not even list the root; a missing path under a
    // folder it may not traverse is 403, never 404.
    let (status, body) = lake.json(&token, "GET", "/?op=LISTSTATUS").await;
    assert_eq!(
        (status, exception(&body)),
        (403, "AccessControlException"),
        "{body}"
    );
    assert!(
        body["RemoteException"]["message"]
            .as_str()
            .unwrap()
            .contains("Either the resource does not exist or the user is not authorized")
    );
    let (status, _) = lake
        .json(&token, "GET", "/TestFolder/missing?op=GETFILESTATUS")
        .await;
    assert_eq!(status, 403);

    // The grants of the tutorial: R+X on /, R+W+X access and default on the folder.
    let grant_root = format!("/?op=MODIFYACLENTRIES&aclspec=user:{vm}:r-x");
    assert_eq!(lake.json(&owner, "PUT", &grant_root).await.0, 200);
    let grant_folder =
        format!("/TestFolder?op=MODIFYACLENTRIES&aclspec=user:{vm}:rwx,default:user:{vm}:rwx");
    assert_eq!(lake.json(&owner, "PUT", &grant_folder).await.0, 200);

    // The tutorial's LISTSTATUS.
    let (status, body) = lake.json(&token, "GET", "/?op=LISTSTATUS").await;
    assert_eq!(status, 200, "{body}");
    let statuses = body["FileStatuses"]["FileStatus"].as_array().unwrap();
    assert_eq!(statuses.len(), 1);
    let folder = &statuses[0];
    assert_eq!(folder["pathSuffix"], "TestFolder");
    assert_eq!(folder["type"], "DIRECTORY");
    assert_eq!(folder["permission"], "770");
    assert_eq!(folder["length"], 0);
    assert_eq!(folder["owner"].as_str().unwrap(), oid(&owner));
    assert_eq!(body["FileStatuses"]["continuationToken"], "");

    // The tutorial's upload: 307 to write=true, then 201 with the same Location.
    let (status, headers, _) = lake
        .call(
            &token,
            "PUT",
            "/TestFolder/Test1.txt?op=CREATE",
            b"Test file.\n".to_vec(),
        )
        .await;
    assert_eq!(status, 307);
    let location = headers["location"].to_str().unwrap().to_owned();
    assert_eq!(
        location,
        Lake::url("/TestFolder/Test1.txt?op=CREATE&write=true")
    );
    let (status, headers, _) = lake
        .call(
            &token,
            "PUT",
            "/TestFolder/Test1.txt?op=CREATE&write=true",
            b"Test file.\n".to_vec(),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(headers["location"].to_str().unwrap(), location);
    assert_eq!(headers["content-length"], "0");
    // Reading it back: OPEN answers 307 to read=true, then the bytes.
    let (status, headers, _) = lake
        .call(&token, "GET", "/TestFolder/Test1.txt?op=OPEN", Vec::new())
        .await;
    assert_eq!(
        (status, headers["location"].to_str().unwrap()),
        (
            307,
            Lake::url("/TestFolder/Test1.txt?op=OPEN&read=true").as_str()
        )
    );
    let (status, _, bytes) = lake
        .call(
            &token,
            "GET",
            "/TestFolder/Test1.txt?op=OPEN&read=true",
            Vec::new(),
        )
        .await;
    assert_eq!((status, bytes.as_slice()), (200, &b"Test file.\n"[..]));
    let (status, _, bytes) = lake
        .call(
            &token,
            "GET",
            "/TestFolder/Test1.txt?OP=OPEN&read=true&offset=5&length=4",
            Vec::new(),
        )
        .await;
    assert_eq!((status, bytes.as_slice()), (200, &b"file"[..]));

    // The new file: owned by its creator, the folder's default ACL minus other's bits.
    let (status, body) = lake
        .json(&token, "GET", "/TestFolder/Test1.txt?op=MSGETACLSTATUS")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["AclStatus"]["owner"], vm.as_str());
    assert!(
        body["AclStatus"]["entries"]
            .as_array()
            .unwrap()
            .contains(&json!(format!("user:{vm}:rwx")))
    );
    assert_eq!(body["AclStatus"]["permission"], "770");

    // APPEND: only at the end.
    let (status, _, body) = lake
        .call(
            &token,
            "POST",
            "/TestFolder/Test1.txt?op=APPEND&offset=3&append=true",
            b"x".to_vec(),
        )
        .await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((status, exception(&body)), (400, "BadOffsetException"));
    let (status, _, _) = lake
        .call(
            &token,
            "POST",
            "/TestFolder/Test1.txt?op=APPEND&offset=11&append=true&syncFlag=CLOSE",
            b"more".to_vec(),
        )
        .await;
    assert_eq!(status, 200);
    let (_, body) = lake
        .json(&token, "GET", "/TestFolder/Test1.txt?op=GETFILESTATUS")
        .await;
    assert_eq!(body["FileStatus"]["length"], 15);

    // Only superusers change owners; the owner of an item may chmod it.
    let (status, _) = lake
        .json(
            &token,
            "PUT",
            &format!("/TestFolder/Test1.txt?op=SETOWNER&owner={}", oid(&owner)),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        lake.json(
            &token,
            "PUT",
            "/TestFolder/Test1.txt?op=SETPERMISSION&permission=0750"
        )
        .await
        .0,
        200
    );
    assert_eq!(
        lake.json(
            &owner,
            "PUT",
            &format!("/TestFolder/Test1.txt?op=SETOWNER&owner={vm}&group={vm}")
        )
        .await
        .0,
        200
    );
    // Outside its folder, the identity may not write.
    let (status, _) = lake.json(&token, "PUT", "/elsewhere?op=MKDIRS").await;
    assert_eq!(status, 403);
    assert_eq!(
        lake.json(&token, "GET", "/TestFolder?op=CHECKACCESS&fsaction=rwx")
            .await
            .0,
        200
    );
    assert_eq!(
        lake.json(&token, "GET", "/?op=CHECKACCESS&fsaction=-w-")
            .await
            .0,
        403
    );

    // Without X on the root, every step is refused.
    let revoke = format!("/?op=MODIFYACLENTRIES&aclspec=user:{vm}:r--");
    assert_eq!(lake.json(&owner, "PUT", &revoke).await.0, 200);
    for (method, query) in [
        ("GET", "/TestFolder?op=LISTSTATUS"),
        ("GET", "/TestFolder/Test1.txt?op=OPEN&read=true"),
        ("PUT", "/TestFolder/Test2.txt?op=CREATE&write=true"),
        ("GET", "/TestFolder/nothing?op=GETFILESTATUS"),
        ("POST", "/TestFolder/Test1.txt?op=APPEND&offset=15"),
        ("DELETE", "/TestFolder/Test1.txt?op=DELETE"),
    ] {
        let (status, _, body) = lake.call(&token, method, query, Vec::new()).await;
        assert_eq!(
            status,
            403,
            "{method} {query}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    // The owner still sees everything, and a path that is not there is 404 to it.
    let (status, body) = lake
        .json(&owner, "GET", "/TestFolder/nothing?op=GETFILESTATUS")
        .await;
    assert_eq!((status, exception(&body)), (404, "FileNotFoundException"));
}

#[tokio::test]
async fn authentication_is_a_data_lake_token_of_the_accounts_tenant() {
    let cloud = TestCloud::start().await.unwrap();
    create_account(&cloud).await;
    let lake = Lake {
        http: client(&cloud),
    };
    let response = lake
        .http
        .get(Lake::url("/?op=LISTSTATUS"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let arm = cloud.owner_arm_token().await;
    let (status, body) = lake.json(&arm, "GET", "/?op=LISTSTATUS").await;
    assert_eq!(
        (status, exception(&body)),
        (401, "SecurityException"),
        "{body}"
    );
    // v2 tokens (audience: Data Lake's app id) are Data Lake's too.
    let v2 = cloud
        .owner_token("https://datalake.azure.net//.default")
        .await
        .unwrap();
    assert_eq!(lake.json(&v2, "GET", "/?op=LISTSTATUS").await.0, 200);
    let owner = cloud.owner_v1_token(DATALAKE).await.unwrap();
    let (status, body) = lake.json(&owner, "GET", "/?op=NOSUCHOP").await;
    assert_eq!(
        (status, exception(&body)),
        (400, "IllegalArgumentException")
    );
    let (status, _) = lake.json(&owner, "PUT", "/?op=LISTSTATUS").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_tree_operations_of_the_python_client() {
    let cloud = TestCloud::start().await.unwrap();
    create_account(&cloud).await;
    let lake = Lake {
        http: client(&cloud),
    };
    let owner = cloud.owner_v1_token(DATALAKE).await.unwrap();
    assert_eq!(
        lake.json(&owner, "PUT", "/a/b/c?op=MKDIRS&permission=750")
            .await
            .0,
        200
    );
    for i in 0..5 {
        let path = format!(
            "/a/f{i}?op=CREATE&write=true&overwrite=true&syncFlag=DATA&leaseid=x&filesessionid=y"
        );
        assert_eq!(
            lake.call(&owner, "PUT", &path, vec![b'0' + i; 10]).await.0,
            201
        );
    }
    // Paging: listSize, listAfter = the previous continuationToken.
    let mut names = Vec::new();
    let mut after = String::new();
    loop {
        let (status, body) = lake
            .json(
                &owner,
                "GET",
                &format!("/a?OP=LISTSTATUS&listSize=2&listAfter={after}"),
            )
            .await;
        assert_eq!(status, 200);
        for s in body["FileStatuses"]["FileStatus"].as_array().unwrap() {
            names.push(s["pathSuffix"].as_str().unwrap().to_owned());
        }
        after = body["FileStatuses"]["continuationToken"]
            .as_str()
            .unwrap()
            .to_owned();
        if after.is_empty() {
            break;
        }
    }
    assert_eq!(names, ["b", "f0", "f1", "f2", "f3", "f4"]);
    let (_, body) = lake.json(&owner, "GET", "/a?op=GETCONTENTSUMMARY").await;
    assert_eq!(body["ContentSummary"]["directoryCount"], 3);
    assert_eq!(body["ContentSummary"]["fileCount"], 5);
    assert_eq!(body["ContentSummary"]["length"], 50);
    let (_, body) = lake.json(&owner, "GET", "/a/b/c?op=GETFILESTATUS").await;
    assert_eq!(body["FileStatus"]["permission"], "750");
    let (_, body) = lake.json(&owner, "GET", "/a/b?op=GETFILESTATUS").await;
    assert_eq!(body["FileStatus"]["permission"], "770");
    // A file lists as itself.
    let (_, body) = lake.json(&owner, "GET", "/a/f0?op=LISTSTATUS").await;
    assert_eq!(body["FileStatuses"]["FileStatus"][0]["pathSuffix"], "");
    // CREATE without overwrite on an existing file.
    let (status, _, _) = lake
        .call(&owner, "PUT", "/a/f0?op=CREATE&write=true", Vec::new())
        .await;
    assert_eq!(status, 403);
    // RENAME, with {"boolean":false} where Gen1 says so.
    assert_eq!(
        lake.json(&owner, "PUT", "/a/f0?op=RENAME&destination=a%2Fg0")
            .await,
        (200, json!({"boolean": true}))
    );
    assert_eq!(
        lake.json(&owner, "PUT", "/a/f1?op=RENAME&destination=/nope/x")
            .await,
        (200, json!({"boolean": false}))
    );
    assert_eq!(
        lake.json(&owner, "PUT", "/a/f1?op=RENAME&destination=/a/b")
            .await,
        (200, json!({"boolean": true}))
    );
    assert_eq!(
        lake.json(&owner, "GET", "/a/b/f1?op=GETFILESTATUS").await.0,
        200
    );
    // MSCONCAT and CONCAT.
    let response = lake
        .http
        .post(Lake::url(
            "/a/joined?op=MSCONCAT&deleteSourceDirectory=false",
        ))
        .bearer_auth(&owner)
        .json(&json!({ "sources": ["/a/f2", "/a/f3"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        lake.json(&owner, "POST", "/a/joined?op=CONCAT&sources=/a/f4")
            .await
            .0,
        200
    );
    let (_, _, bytes) = lake
        .call(&owner, "GET", "/a/joined?op=OPEN&read=true", Vec::new())
        .await;
    assert_eq!(
        bytes,
        [vec![b'2'; 10], vec![b'3'; 10], vec![b'4'; 10]].concat()
    );
    assert_eq!(
        lake.json(&owner, "GET", "/a/f2?op=GETFILESTATUS").await.0,
        404
    );
    // ACL calls.
    let oid = "11111111-2222-3333-4444-555555555555";
    assert_eq!(lake.json(&owner, "PUT", &format!("/a?op=SETACL&aclspec=user::rwx,group::r-x,other::---,user:{oid}:r--,default:user:{oid}:rwx")).await.0, 200);
    let (_, body) = lake.json(&owner, "GET", "/a?op=GETACLSTATUS").await;
    assert!(
        body["AclStatus"]["entries"]
            .as_array()
            .unwrap()
            .contains(&json!(format!("default:user:{oid}:rwx")))
    );
    let (_, body) = lake.json(&owner, "GET", "/a?op=GETFILESTATUS").await;
    assert_eq!(body["FileStatus"]["aclBit"], true);
    assert_eq!(
        lake.json(
            &owner,
            "PUT",
            &format!("/a?op=REMOVEACLENTRIES&aclspec=user:{oid}")
        )
        .await
        .0,
        200
    );
    assert_eq!(
        lake.json(&owner, "PUT", "/a?op=REMOVEDEFAULTACL").await.0,
        200
    );
    let (_, body) = lake.json(&owner, "GET", "/a?op=GETFILESTATUS").await;
    assert_eq!(body["FileStatus"]["aclBit"], false);
    assert_eq!(lake.json(&owner, "PUT", "/a?op=REMOVEACL").await.0, 200);
    let (status, _) = lake
        .json(&owner, "PUT", "/a?op=SETACL&aclspec=user::rwx")
        .await;
    assert_eq!(status, 400);
    // DELETE: non-recursive on a folder with children is refused; false when nothing is there.
    let (status, _) = lake
        .json(&owner, "DELETE", "/a?op=DELETE&recursive=False")
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        lake.json(&owner, "DELETE", "/a?op=DELETE&recursive=True")
            .await,
        (200, json!({"boolean": true}))
    );
    assert_eq!(
        lake.json(&owner, "DELETE", "/a?op=DELETE&recursive=True")
            .await,
        (200, json!({"boolean": false}))
    );
    assert_eq!(
        files_under(&cloud.data_dir().join("content")),
        0,
        "the bytes went with the files"
    );
}

#[tokio::test]
async fn concurrent_appenders_lose_nothing_acknowledged_and_it_survives_a_restart() {
    let cloud = TestCloud::start().await.unwrap();
    create_account(&cloud).await;
    let lake = Arc::new(Lake {
        http: client(&cloud),
    });
    let owner: Arc<str> = cloud.owner_v1_token(DATALAKE).await.unwrap().into();
    assert_eq!(
        lake.call(&owner, "PUT", "/log?op=CREATE&write=true", Vec::new())
            .await
            .0,
        201
    );
    let mut tasks = Vec::new();
    for writer in 0..6u8 {
        let (lake, owner) = (lake.clone(), owner.clone());
        tasks.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for n in 0..8u8 {
                let chunk = vec![b'A' + writer, b'0' + n, b'\n'];
                loop {
                    let (_, body) = lake.json(&owner, "GET", "/log?op=GETFILESTATUS").await;
                    let offset = body["FileStatus"]["length"].as_u64().unwrap();
                    let (status, _, _) = lake
                        .call(
                            &owner,
                            "POST",
                            &format!("/log?op=APPEND&offset={offset}&syncFlag=DATA"),
                            chunk.clone(),
                        )
                        .await;
                    match status {
                        200 => {
                            acknowledged.push(chunk);
                            break;
                        }
                        400 => continue, // another appender got that offset
                        other => panic!("APPEND answered {other}"),
                    }
                }
            }
            acknowledged
        }));
    }
    let mut expected = Vec::new();
    for task in tasks {
        expected.extend(task.await.unwrap());
    }
    let (_, _, bytes) = lake
        .call(&owner, "GET", "/log?op=OPEN&read=true", Vec::new())
        .await;
    assert_eq!(bytes.len(), 6 * 8 * 3);
    let mut lines: Vec<&[u8]> = bytes.split_inclusive(|b| *b == b'\n').collect();
    lines.sort();
    expected.sort();
    assert_eq!(
        lines,
        expected.iter().map(Vec::as_slice).collect::<Vec<_>>()
    );

    let dir = cloud.stop().await;
    let cloud = TestCloud::start_in(dir).await.unwrap();
    let lake = Lake {
        http: client(&cloud),
    };
    let owner = cloud.owner_v1_token(DATALAKE).await.unwrap();
    let (_, _, again) = lake
        .call(&owner, "GET", "/log?op=OPEN&read=true", Vec::new())
        .await;
    assert_eq!(again, bytes);
}

/// The tutorial's upload with curl itself: `curl -i -X PUT -L -T Test1.txt` prints 100
/// Continue, 307 Temporary Redirect, 100 Continue, 201 Created (to 127.0.0.1 only: the
/// account's name is resolved to the test listener with `--resolve`).
#[tokio::test]
async fn curl_prints_the_tutorials_upload_sequence() {
    let cloud = TestCloud::start().await.unwrap();
    create_account(&cloud).await;
    let owner = cloud.owner_v1_token(DATALAKE).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("Test1.txt");
    std::fs::write(&file, "Test file.\n").unwrap();
    let port = cloud.addr.port();
    let host = format!("{ACCOUNT}.azuredatalakestore.net");
    let url = format!("https://{host}:{port}/webhdfs/v1/TestFolder/Test1.txt?op=CREATE");
    let output = tokio::process::Command::new("curl")
        .args(["-s", "-i", "-X", "PUT", "-L", "-T"])
        .arg(&file)
        .arg("--cacert")
        .arg(&cloud.info.ca_certificate)
        .args([
            "--resolve",
            &format!("{host}:{port}:127.0.0.1"),
            "--noproxy",
            "*",
        ])
        .args(["-H", &format!("Authorization: Bearer {owner}"), &url])
        .output()
        .await
        .expect("curl runs");
    let printed = String::from_utf8_lossy(&output.stdout);
    let statuses: Vec<&str> = printed
        .lines()
        .filter(|l| l.starts_with("HTTP/"))
        .map(str::trim)
        .collect();
    assert_eq!(
        statuses,
        [
            "HTTP/1.1 100 Continue",
            "HTTP/1.1 307 Temporary Redirect",
            "HTTP/1.1 100 Continue",
            "HTTP/1.1 201 Created"
        ],
        "{printed}"
    );
    let lake = Lake {
        http: client(&cloud),
    };
    let (_, _, bytes) = lake
        .call(
            &owner,
            "GET",
            "/TestFolder/Test1.txt?op=OPEN&read=true",
            Vec::new(),
        )
        .await;
    assert_eq!(bytes, b"Test file.\n");
}
