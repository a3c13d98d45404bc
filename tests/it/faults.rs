//! Faults between the SDK and moto: a small HTTP proxy on 127.0.0.1 answers some requests with
//! 503 without passing them on, and for others passes them on and then drops the connection
//! before the answer, so the SDK retries a request that moto already carried out. Apply must
//! still converge, with nothing created twice.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::support::{Moto, SMALL, Zone};

/// What the proxy does to the n-th request (1-based).
fn fault(n: usize) -> Option<Fault> {
    match n % 20 {
        7 => Some(Fault::ServiceUnavailable),
        17 => Some(Fault::DropAnswer),
        _ => None,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    /// Answer 503 without passing the request on.
    ServiceUnavailable,
    /// Pass the request on, then close the connection without answering.
    DropAnswer,
    /// Answer 403 `AccessDenied` without passing the request on.
    AccessDenied,
}

/// A fault-injecting proxy in front of a moto server; stops when dropped.
pub struct Proxy {
    port: u16,
    stop: Arc<AtomicBool>,
    /// Faults injected.
    pub faults: Arc<AtomicUsize>,
}

/// Which requests the proxy spoils.
#[derive(Clone, Debug)]
pub enum Rule {
    /// [`fault`]'s schedule, by request number.
    Schedule,
    /// Refuse, as STS does (403 `AccessDenied`), every request whose text holds all of these.
    Refuse(Vec<String>),
    /// Pass on, then lose the answer to, the first request whose text holds each of these.
    LoseFirst(Arc<Mutex<Vec<String>>>),
}

impl Proxy {
    pub fn start(upstream: u16) -> Proxy {
        Proxy::with(upstream, Rule::Schedule)
    }

    pub fn with(upstream: u16, rule: Rule) -> Proxy {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(AtomicUsize::new(0));
        let faults = Arc::new(AtomicUsize::new(0));
        let (s, r, f) = (stop.clone(), requests.clone(), faults.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let (r, f, rule) = (r.clone(), f.clone(), rule.clone());
                        std::thread::spawn(move || serve(client, upstream, &rule, &r, &f));
                    }
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
                }
            }
        });
        Proxy { port, stop, faults }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Reads one HTTP/1.1 request (head and a Content-Length body); `None` at end of stream.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("content-length:") {
            length = value.trim().parse().ok()?;
        }
        if lower.starts_with("connection:") {
            continue; // the proxy decides: one upstream connection per request
        }
        if line == "\r\n" {
            head.extend_from_slice(b"Connection: close\r\n\r\n");
            break;
        }
        head.extend_from_slice(line.as_bytes());
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    head.extend(body);
    Some(head)
}

/// Serves one request: moto closes each connection after its answer (`Connection: close`),
/// which the proxy passes on, so the client opens a new connection for its next request.
fn serve(
    client: TcpStream,
    upstream: u16,
    rule: &Rule,
    requests: &AtomicUsize,
    faults: &AtomicUsize,
) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut client = client;
    let Some(request) = read_request(&mut reader) else {
        return;
    };
    let n = requests.fetch_add(1, Ordering::SeqCst) + 1;
    let injected = match rule {
        Rule::Schedule => fault(n),
        Rule::Refuse(needles) => {
            let text = String::from_utf8_lossy(&request);
            needles
                .iter()
                .all(|n| text.contains(n.as_str()))
                .then_some(Fault::AccessDenied)
        }
        Rule::LoseFirst(pending) => {
            let text = String::from_utf8_lossy(&request);
            let mut pending = pending.lock().unwrap();
            pending
                .iter()
                .position(|n| text.contains(n.as_str()))
                .map(|i| pending.remove(i))
                .map(|_| Fault::DropAnswer)
        }
    };
    if injected.is_some() {
        faults.fetch_add(1, Ordering::SeqCst);
    }
    if injected == Some(Fault::AccessDenied) {
        let body = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>refused by the test proxy</Message></Error><RequestId>lz-test</RequestId></ErrorResponse>";
        let _ = client.write_all(
            format!(
                "HTTP/1.1 403 Forbidden\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        );
    } else if injected == Some(Fault::ServiceUnavailable) {
        let _ = client.write_all(
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
    } else if let Ok(mut moto) = TcpStream::connect((Ipv4Addr::LOCALHOST, upstream))
        && moto.write_all(&request).is_ok()
    {
        let mut answer = Vec::new();
        let _ = moto.read_to_end(&mut answer);
        if injected != Some(Fault::DropAnswer) {
            let _ = client.write_all(&answer);
        }
    }
    let _ = client.shutdown(Shutdown::Both);
}

#[tokio::test]
async fn apply_converges_through_5xx_and_lost_answers_without_duplicates() {
    let moto = Arc::new(Moto::start());
    let proxy = Proxy::start(moto.port());
    let zone = Zone::at(moto.clone(), &proxy.endpoint(), SMALL).await;
    zone.apply().await;
    assert!(
        proxy.faults.load(Ordering::SeqCst) > 10,
        "faults were injected"
    );

    // Read back directly from moto, not through the proxy.
    let direct = Zone::at(moto.clone(), &moto.endpoint(), SMALL).await;
    for name in ["security", "log-archive", "lumo-dev", "lumo-prod"] {
        assert_eq!(
            direct.account_ids(name).await.len(),
            1,
            "{name} created more than once"
        );
    }
    let log_archive = direct.account_id("log-archive").await;
    let kms = aws_sdk_kms::Client::new(&direct.config_in(&log_archive).await);
    let keys = kms.list_keys().send().await.unwrap();
    assert_eq!(keys.keys().len(), 1, "one audit key: {:?}", keys.keys());
    let plan = direct.plan().await;
    assert!(
        !plan.has_changes(),
        "{}",
        landing_zone::render::human(&plan, Default::default())
    );
}

/// Every kind's create, carried out by AWS with its answer lost: the SDK retries, AWS says it
/// exists, and apply brings what exists in line instead of failing or making a second one.
#[tokio::test]
async fn a_create_whose_answer_is_lost_is_recovered_for_every_kind() {
    let moto = Arc::new(Moto::start());
    let creates = [
        "AWSOrganizationsV20161128.CreateOrganization\r\n",
        "AWSOrganizationsV20161128.CreateOrganizationalUnit",
        "Action=CreateRole&",
        "Action=CreatePolicy&",
        "Action=CreateGroup&",
        "TrentService.CreateAlias",
        "<CreateBucketConfiguration",
        "CloudTrail_20131101.CreateTrail",
    ];
    let pending = Arc::new(Mutex::new(creates.map(str::to_owned).to_vec()));
    let proxy = Proxy::with(moto.port(), Rule::LoseFirst(pending.clone()));
    let zone = Zone::at(moto.clone(), &proxy.endpoint(), SMALL).await;
    zone.apply().await;
    assert_eq!(
        *pending.lock().unwrap(),
        Vec::<String>::new(),
        "every create lost an answer"
    );
    let direct = Zone::at(moto.clone(), &moto.endpoint(), SMALL).await;
    let plan = direct.plan().await;
    assert!(
        !plan.has_changes(),
        "{}",
        landing_zone::render::human(&plan, Default::default())
    );
    let log_archive = direct.account_id("log-archive").await;
    let kms = aws_sdk_kms::Client::new(&direct.config_in(&log_archive).await);
    assert_eq!(kms.list_keys().send().await.unwrap().keys().len(), 1);
}
