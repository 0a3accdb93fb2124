import java.io.*;
import java.net.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.security.*;
import java.security.cert.*;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.*;
import java.util.concurrent.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.*;

import org.eclipse.californium.core.CoapExchange;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.*;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.core.network.interceptors.MessageInterceptor;
import org.eclipse.californium.scandium.config.DtlsConnectorConfig;
import org.eclipse.californium.scandium.dtls.AlertMessage;
import org.eclipse.californium.scandium.dtls.CertificateMessage;
import org.eclipse.californium.scandium.dtls.CertificateType;
import org.eclipse.californium.scandium.dtls.CertificateVerificationResult;
import org.eclipse.californium.scandium.dtls.ConnectionId;
import org.eclipse.californium.scandium.dtls.HandshakeException;
import org.eclipse.californium.scandium.dtls.HandshakeResultHandler;
import org.eclipse.californium.scandium.dtls.x509.CertificateVerifier;
import org.eclipse.californium.scandium.util.ServerNames;
import org.eclipse.leshan.core.CertificateUsage;
import org.eclipse.leshan.core.LwM2m;
import org.eclipse.leshan.core.SecurityMode;
import org.eclipse.leshan.core.endpoint.DefaultEndPointUriHandler;
import org.eclipse.leshan.core.endpoint.EndpointUri;
import org.eclipse.leshan.core.endpoint.Protocol;
import org.eclipse.leshan.core.link.Link;
import org.eclipse.leshan.core.link.lwm2m.attributes.*;
import org.eclipse.leshan.core.model.*;
import org.eclipse.leshan.core.node.*;
import org.eclipse.leshan.core.observation.*;
import org.eclipse.leshan.core.peer.LwM2mPeer;
import org.eclipse.leshan.core.request.*;
import org.eclipse.leshan.core.response.*;
import org.eclipse.leshan.server.*;
import org.eclipse.leshan.server.model.VersionedModelProvider;
import org.eclipse.leshan.server.observation.ObservationListener;
import org.eclipse.leshan.server.registration.*;
import org.eclipse.leshan.servers.security.*;
import org.eclipse.leshan.bsserver.*;
import org.eclipse.leshan.bsserver.model.VersionedBootstrapModelProvider;
import org.eclipse.leshan.bsserver.security.BootstrapSecurityStoreAdapter;
import org.eclipse.leshan.transport.californium.server.endpoint.*;
import org.eclipse.leshan.transport.californium.server.endpoint.coap.CoapServerEndpointFactoryBuilder;
import org.eclipse.leshan.transport.californium.server.endpoint.coap.CoapServerProtocolProvider;
import org.eclipse.leshan.transport.californium.server.endpoint.coaps.CoapsServerEndpointFactory;
import org.eclipse.leshan.transport.californium.server.endpoint.coaps.CoapsServerProtocolProvider;
import org.eclipse.leshan.transport.californium.bsserver.endpoint.*;
import org.eclipse.leshan.transport.californium.bsserver.endpoint.coap.CoapBootstrapServerProtocolProvider;
import org.eclipse.leshan.transport.californium.bsserver.endpoint.coaps.CoapsBootstrapServerEndpointFactory;
import org.eclipse.leshan.transport.californium.bsserver.endpoint.coaps.CoapsBootstrapServerProtocolProvider;

/**
 * The interop suite's Eclipse Leshan 2.0.0-M18 peer (Tests/interop/test_leshan*.py): one LwM2M
 * server and one bootstrap server, each on CoAP and CoAPS, in one JVM, driven over a small HTTP
 * control API that answers JSON.
 *
 * Usage: java LeshanHarness [--host H] [--dm-coap P] [--dm-coaps P] [--dm-coap-lossy P]
 *        [--bs-coap P] [--bs-coaps P] [--http P] [--cert FILE --key FILE --ca FILE]
 *        [--rpk-key FILE --rpk-pub FILE [--dm-coaps-rpk P] [--bs-coaps-rpk P]] [--parent PID]
 * Every port defaults to 0 (the system picks a free one); once everything listens the harness
 * prints one line {@code READY {"dm-coap":..,"dm-coaps":..,"dm-coap-lossy":..,"bs-coap":..,
 * "bs-coaps":..,"http":..}} on stdout. dm-coap-lossy is a second CoAP endpoint of the same LwM2M
 * server, with retransmission tuned for a link that drops 30 % of the datagrams (lossyLink).
 * --cert/--key/--ca: the X.509 identity of both servers (PEM or DER certificate, PKCS#8 DER EC
 * key) and the CA client certificates must chain to. --parent: exit when that process is gone.
 * --rpk-key/--rpk-pub: the Raw Public Key identity (RFC 7250) of both servers, an EC key pair
 * (PKCS#8 DER private key, SubjectPublicKeyInfo DER public key); with them the LwM2M server and the
 * bootstrap server get one more CoAPS endpoint each, dm-coaps-rpk and bs-coaps-rpk (in READY),
 * which present that key and nothing else (certificate type RawPublicKey only, both ways). A
 * client key is checked during the handshake (rpkVerifier): by default ("store") the handshake
 * fails with a bad_certificate alert unless a /rpk entry of that server holds exactly that key;
 * /rpktrust?mode=all switches to what Leshan does by itself (every key completes the handshake,
 * the security store decides at Register / Bootstrap-Request).
 *
 * Control API (GET, query parameters; answers are JSON objects):
 *   /events?from=N[&ep=E]     events from index N (registrations, bootstrap steps, notifications)
 *   /clients                  the current registrations
 *   /read?ep&path[&format]    format: TLV SENML_JSON SENML_CBOR JSON (LwM2M JSON) TEXT OPAQUE CBOR
 *   /discover?ep&path         /wattr?ep&path&q=pmin=1&pmax=5
 *   /write?ep&path&type&value (resource) | &res=ID:TYPE:VALUE,... [&mode=update] (instance)
 *   /writefile?ep&path&file[&format=OPAQUE][&request-timeout=S]  the bytes of a file as an
 *                             opaque resource's value (Block1 when larger than one block: the
 *                             firmware push to /5/0/0); answers also "seconds" it took, "bytes"
 *   /coapfile?name&file       serves the file at coap://HOST:PORT/NAME (Block2, an ETag) from the
 *                             harness's own Californium CoAP server (a firmware pull's source)
 *   /exec?ep&path[&args]      /create?ep&path&res=...[&inst=N]   /delete?ep&path
 *   /observe?ep&path[&format] /cancel?ep&path   /obs?ep
 *   /rcomp, /ocomp?ep&paths=/3/0/0,/3/0/1[&format]   /wcomp?ep&vals=PATH:TYPE:VALUE,...
 *   /ccancel?ep&paths         /psk?who=dm|bs&ep&id&key(hex)   /x509?who&ep   /unsec?who&ep
 *   /rpk?who=dm|bs&ep&spki    the client's SubjectPublicKeyInfo (hex or base64 of the DER, or PEM)
 *   /rpktrust?mode=store|all  how the *-rpk endpoints check a client key (see above)
 *   /bsconfig?ep&uri[&mode=nosec|psk|x509|rpk][&id&key][&cert&pkey&scert&usage][&ssid][&lifetime]
 *             [&binding=U][&delete=/0,/1][&fmt][&autoid=true]
 *             rpk: &cert = the client's SPKI DER file (/0/x/3), &pkey = its PKCS#8 DER private key
 *             (/0/x/5), &scert = the server's SPKI DER file (/0/x/4; default: --rpk-pub)
 * Types: s string, i integer, u unsigned, b boolean, f float, t time (epoch s), o opaque (hex),
 * l object link (O:I).
 * Every CoAP message in and out is printed on stdout ("MSG ..."), every event too ("EVENT {...}").
 */
public class LeshanHarness {
    static final ObjectMapper JSON = new ObjectMapper();
    static final List<Map<String, Object>> events = new ArrayList<>();
    static LeshanServer server;
    static LeshanBootstrapServer bsServer;
    static final InMemorySecurityStore dmSec = new InMemorySecurityStore();
    static final InMemorySecurityStore bsSec = new InMemorySecurityStore();
    static final InMemoryBootstrapConfigStore bsConfigs = new InMemoryBootstrapConfigStore();
    /** Every object model version Leshan ships (objects 0-7, 21), the server's model source. */
    static final VersionedModelProvider models = new VersionedModelProvider(ObjectLoader.loadAllDefault());

    // MARK: - Output

    static synchronized void out(String line) {
        System.out.println(line);
        System.out.flush();
    }

    static void ev(String kind, String ep, Map<String, Object> fields) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("kind", kind);
        e.put("ep", ep);
        e.put("time", System.currentTimeMillis() / 1000.0);
        if (fields != null) e.putAll(fields);
        synchronized (events) {
            e.put("index", events.size());
            events.add(e);
        }
        try {
            out("EVENT " + JSON.writeValueAsString(e));
        } catch (Exception x) {
            out("EVENT " + e);
        }
    }

    static Map<String, Object> fields(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i + 1 < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    static String hex(byte[] b) {
        if (b == null) return "";
        StringBuilder sb = new StringBuilder();
        for (byte x : b) sb.append(String.format("%02x", x));
        return sb.toString();
    }

    static byte[] unhex(String s) {
        byte[] r = new byte[s.length() / 2];
        for (int i = 0; i < r.length; i++) r[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        return r;
    }

    static String printable(byte[] b) {
        for (byte x : b) {
            if ((x < 32 || x > 126) && x != '\n' && x != '\r' && x != '\t') {
                String h = hex(b);
                return "0x" + (h.length() > 400 ? h.substring(0, 400) + "..." : h);
            }
        }
        return "\"" + new String(b, StandardCharsets.UTF_8).replace("\n", "\\n") + "\"";
    }

    static String msg(String dir, String tag, Message m, InetSocketAddress peer) {
        String p = m.getPayloadSize() == 0 ? "" : " payload(" + m.getPayloadSize() + ")=" + printable(m.getPayload());
        String code = (m instanceof Request) ? ((Request) m).getCode() + " " + ((Request) m).getURI()
                : (m instanceof org.eclipse.californium.core.coap.Response)
                        ? ((org.eclipse.californium.core.coap.Response) m).getCode().toString() : "EMPTY";
        return "MSG " + tag + " " + dir + " " + peer + " " + m.getType() + " mid=" + m.getMID() + " tok="
                + m.getTokenString() + " " + code + " opts=" + m.getOptions() + p;
    }

    static InetSocketAddress peerOf(Message m) {
        try {
            return (m.getDestinationContext() != null ? m.getDestinationContext() : m.getSourceContext()).getPeerAddress();
        } catch (Exception e) {
            return null;
        }
    }

    static MessageInterceptor interceptor(String tag) {
        return new MessageInterceptor() {
            public void sendRequest(Request r) { out(msg("->", tag, r, peerOf(r))); }
            public void sendResponse(org.eclipse.californium.core.coap.Response r) { out(msg("->", tag, r, peerOf(r))); }
            public void sendEmptyMessage(EmptyMessage m) { out(msg("->", tag, m, peerOf(m))); }
            public void receiveRequest(Request r) { out(msg("<-", tag, r, peerOf(r))); }
            public void receiveResponse(org.eclipse.californium.core.coap.Response r) { out(msg("<-", tag, r, peerOf(r))); }
            public void receiveEmptyMessage(EmptyMessage m) { out(msg("<-", tag, m, peerOf(m))); }
        };
    }

    // MARK: - LwM2M values as JSON

    /** A resource value as JSON: numbers, booleans, strings; opaque as hex; time as epoch s; objlnk "O:I". */
    static Object value(ResourceModel.Type type, Object v) {
        if (v == null) return null;
        if (v instanceof byte[]) return hex((byte[]) v);
        if (v instanceof Date) return ((Date) v).getTime() / 1000;
        if (v instanceof ObjectLink) return ((ObjectLink) v).getObjectId() + ":" + ((ObjectLink) v).getObjectInstanceId();
        if (v instanceof Number || v instanceof Boolean || v instanceof String) {
            if (v instanceof org.eclipse.leshan.core.util.datatype.ULong) return new java.math.BigInteger(v.toString());
            return v;
        }
        return v.toString();
    }

    /** Flattens a node into path → value and path → type (the type Leshan decoded it as). */
    static void flatten(String base, LwM2mNode node, Map<String, Object> values, Map<String, String> types) {
        if (node == null) return;
        if (node instanceof LwM2mObject) {
            for (LwM2mObjectInstance i : ((LwM2mObject) node).getInstances().values())
                flatten(base + "/" + i.getId(), i, values, types);
        } else if (node instanceof LwM2mObjectInstance) {
            for (LwM2mResource r : ((LwM2mObjectInstance) node).getResources().values())
                flatten(base + "/" + r.getId(), r, values, types);
        } else if (node instanceof LwM2mMultipleResource) {
            LwM2mMultipleResource r = (LwM2mMultipleResource) node;
            for (LwM2mResourceInstance i : r.getInstances().values()) {
                values.put(base + "/" + i.getId(), value(i.getType(), i.getValue()));
                types.put(base + "/" + i.getId(), String.valueOf(i.getType()));
            }
        } else if (node instanceof LwM2mSingleResource) {
            LwM2mSingleResource r = (LwM2mSingleResource) node;
            values.put(base, value(r.getType(), r.getValue()));
            types.put(base, String.valueOf(r.getType()));
        } else if (node instanceof LwM2mResourceInstance) {
            LwM2mResourceInstance r = (LwM2mResourceInstance) node;
            values.put(base, value(r.getType(), r.getValue()));
            types.put(base, String.valueOf(r.getType()));
        }
    }

    /** path → value and path → type of a node whose own path is {@code path}. */
    static Map<String, Object> content(LwM2mPath path, LwM2mNode node) {
        Map<String, Object> values = new TreeMap<>();
        Map<String, String> types = new TreeMap<>();
        flatten(path.isRoot() ? "" : path.toString(), node, values, types);
        return fields("content", values, "types", types, "node", node.getClass().getSimpleName());
    }

    static Integer coapContentFormat(LwM2mResponse r) {
        Object c = r.getCoapResponse();
        if (c instanceof org.eclipse.californium.core.coap.Response) {
            int f = ((org.eclipse.californium.core.coap.Response) c).getOptions().getContentFormat();
            return f < 0 ? null : f;
        }
        return null;
    }

    static Map<String, Object> response(LwM2mResponse r, String path) {
        if (r == null) return fields("code", "TIMEOUT", "ok", false);
        Map<String, Object> m = fields("code", r.getCode().getName(), "coap", r.getCode().getCode() / 32 + "."
                + String.format("%02d", r.getCode().getCode() % 32), "ok", r.isSuccess(), "error", r.getErrorMessage(),
                "text", r.toString(), "ct", coapContentFormat(r));
        if (r instanceof ReadResponse && ((ReadResponse) r).getContent() != null)
            m.putAll(content(new LwM2mPath(path), ((ReadResponse) r).getContent()));
        if (r instanceof ReadCompositeResponse && ((ReadCompositeResponse) r).getContent() != null) {
            Map<String, Object> values = new TreeMap<>();
            Map<String, String> types = new TreeMap<>();
            for (Map.Entry<LwM2mPath, LwM2mNode> e : ((ReadCompositeResponse) r).getContent().entrySet()) {
                if (e.getValue() == null) continue;
                Map<String, Object> c = content(e.getKey(), e.getValue());
                values.putAll((Map<String, Object>) c.get("content"));
                types.putAll((Map<String, String>) c.get("types"));
            }
            m.put("content", values);
            m.put("types", types);
        }
        if (r instanceof DiscoverResponse && ((DiscoverResponse) r).getObjectLinks() != null)
            m.putAll(links(((DiscoverResponse) r).getObjectLinks()));
        if (r instanceof BootstrapDiscoverResponse && ((BootstrapDiscoverResponse) r).getObjectLinks() != null)
            m.putAll(links(((BootstrapDiscoverResponse) r).getObjectLinks()));
        if (r instanceof CreateResponse) m.put("location", ((CreateResponse) r).getLocation());
        return m;
    }

    /** Links as Leshan prints them ("links") and as it parsed them: target → attribute → value. */
    static Map<String, Object> links(Link[] links) {
        List<String> text = new ArrayList<>();
        Map<String, Map<String, String>> parsed = new LinkedHashMap<>();
        for (Link l : links) {
            text.add(l.toCoreLinkFormat());
            Map<String, String> attributes = new LinkedHashMap<>();
            for (org.eclipse.leshan.core.link.attributes.Attribute a : l.getAttributes())
                attributes.put(a.getName(), a.hasValue() ? String.valueOf(a.getValue()) : null);
            parsed.put(l.getUriReference(), attributes);
        }
        return fields("links", text, "link-attributes", parsed);
    }

    static Map<String, Object> regInfo(Registration r) {
        List<String> links = new ArrayList<>();
        for (Link l : r.getObjectLinks()) links.add(l.toCoreLinkFormat());
        Map<String, String> versions = new TreeMap<>();
        List<String> unknown = new ArrayList<>();
        LwM2mModel model = models.getObjectModel(r);
        for (Map.Entry<Integer, LwM2m.Version> e : r.getSupportedObject().entrySet()) {
            versions.put(String.valueOf(e.getKey()), String.valueOf(e.getValue()));
            if (model.getObjectModel(e.getKey()) == null) unknown.add(e.getKey() + "@" + e.getValue());
        }
        List<String> formats = new ArrayList<>();
        for (ContentFormat f : r.getSupportedContentFormats()) formats.add(f.getName());
        Collections.sort(formats);
        List<String> binding = new ArrayList<>();
        for (BindingMode b : r.getBindingMode()) binding.add(b.name());
        return fields("id", r.getId(), "lt", r.getLifeTimeInSec(), "binding", binding, "queue", r.getQueueMode(),
                "lwm2m", String.valueOf(r.getLwM2mVersion()), "peer", String.valueOf(r.getClientTransportData()),
                "identity", String.valueOf(r.getClientTransportData().getIdentity()), "root", r.getRootPath(),
                "formats", formats, "versions", versions, "unknown-models", unknown, "links", links,
                "rpk-sha256", rpkDigest(r.getClientTransportData()));
    }

    /** The SHA-256 (hex) of the SubjectPublicKeyInfo a peer authenticated with over RPK, else null. */
    static String rpkDigest(LwM2mPeer peer) {
        if (peer == null || !(peer.getIdentity() instanceof org.eclipse.leshan.core.peer.RpkIdentity)) return null;
        try {
            return sha256(((org.eclipse.leshan.core.peer.RpkIdentity) peer.getIdentity()).getPublicKey().getEncoded());
        } catch (Exception e) {
            return String.valueOf(e);
        }
    }

    // MARK: - Blockwise transfers and the lossy link

    /** Every endpoint's blockwise settings: 1024-byte blocks (the largest CoAP over UDP has;
     *  Californium's default, 512, doubles the round trips of a firmware push or pull) and
     *  bodies up to 64 MiB reassembled from blocks received (MAX_RESOURCE_BODY_SIZE, default
     *  8 KiB: a Read of a large resource). A Write Californium sends and an answer it serves are
     *  cut into blocks whatever their size (a 2 MiB push and a 1 MiB pull work with the
     *  defaults too, in 512-byte blocks). */
    static void blockwise(Configuration c) {
        c.set(CoapConfig.PREFERRED_BLOCK_SIZE, 1024);
        c.set(CoapConfig.MAX_MESSAGE_SIZE, 1024);
        c.set(CoapConfig.MAX_RESOURCE_BODY_SIZE, 64 << 20);
    }

    /** The dm-coap-lossy endpoint: retransmission for a loopback link that drops 30 % of the
     *  datagrams each way (an exchange then fails an attempt about half the time). RFC 7252's
     *  defaults (2-3 s, doubling, 4 retransmissions) would take an hour over a 1024-block push
     *  and give up on ~3.5 % of the blocks; here a lost block costs 50-300 ms and one is given up
     *  only after 21 lost attempts (0.51^21 ~ 1e-6). */
    static void lossyLink(Configuration c) {
        blockwise(c);
        c.set(CoapConfig.ACK_TIMEOUT, 50, TimeUnit.MILLISECONDS);
        c.set(CoapConfig.ACK_INIT_RANDOM, 1.0f);
        c.set(CoapConfig.ACK_TIMEOUT_SCALE, 1.5f);
        c.set(CoapConfig.MAX_ACK_TIMEOUT, 300, TimeUnit.MILLISECONDS);
        c.set(CoapConfig.MAX_RETRANSMIT, 20);
    }

    // MARK: - Raw Public Keys (RFC 7250)

    /** The servers' RPK identity (--rpk-key, --rpk-pub); null without them. */
    static PrivateKey rpkPrivate;
    static PublicKey rpkPublic;
    /** /rpktrust: false ("store", the default) = a client key must be in the server's store. */
    static volatile boolean rpkTrustAll = false;

    static PublicKey decodeSpki(byte[] der) throws Exception {
        return KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(der));
    }

    /** A SubjectPublicKeyInfo given as hex of the DER, as base64 (standard or URL-safe) of it, or
     *  as PEM ("-----BEGIN PUBLIC KEY-----", what `lwm2m-agent factory --public-key-out` writes). */
    static byte[] spkiParameter(String s) throws Exception {
        if (s == null || s.isEmpty()) throw new IllegalArgumentException("spki missing");
        // An absolute path names a file holding the key (DER, or PEM as `factory --public-key-out` writes it).
        if (s.startsWith("/")) {
            byte[] file = Files.readAllBytes(Paths.get(s));
            String text = new String(file, StandardCharsets.US_ASCII);
            if (!text.contains("-----BEGIN")) return file;
            s = text;
        }
        s = s.replaceAll("-----[A-Z ]+-----", "").trim();
        if (s.matches("(?i)[0-9a-f]+") && s.length() % 2 == 0) return unhex(s);
        return Base64.getMimeDecoder().decode(s.replace('-', '+').replace('_', '/'));
    }

    static String sha256(byte[] b) throws Exception {
        return hex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    /** Which endpoint the client key {@code key} is registered for in {@code store} (null: none). */
    static String rpkOwner(InMemorySecurityStore store, PublicKey key) {
        for (SecurityInfo si : store.getAll())
            if (si.useRPK() && Arrays.equals(si.getRawPublicKey().getEncoded(), key.getEncoded())) return si.getEndpoint();
        return null;
    }

    /**
     * The client-key check of a *-rpk endpoint, during the handshake: RawPublicKey certificates
     * only; in "store" mode the key must be one a /rpk call registered with {@code store}, else
     * the handshake ends with a fatal bad_certificate alert (the out-of-band check of seed 004:
     * the server knows the device's key, or its hash, before the device comes). Each decision is
     * an event "rpk-handshake" (server, the key's SHA-256, accepted, the endpoint it belongs to).
     */
    static CertificateVerifier rpkVerifier(String who, InMemorySecurityStore store) {
        return new CertificateVerifier() {
            public List<CertificateType> getSupportedCertificateTypes() { return Arrays.asList(CertificateType.RAW_PUBLIC_KEY); }
            public List<javax.security.auth.x500.X500Principal> getAcceptedIssuers() { return Collections.emptyList(); }
            public void setResultHandler(HandshakeResultHandler h) { }
            public CertificateVerificationResult verifyCertificate(ConnectionId cid, ServerNames names, InetSocketAddress peer,
                    boolean clientUsage, boolean verifySubject, boolean truncate, CertificateMessage message) {
                PublicKey key = message.getPublicKey();
                String owner = key == null ? null : rpkOwner(store, key);
                boolean ok = key != null && (rpkTrustAll || owner != null);
                String digest;
                try {
                    digest = key == null ? null : sha256(key.getEncoded());
                } catch (Exception e) {
                    digest = String.valueOf(e);
                }
                ev("rpk-handshake", owner, fields("server", who, "peer", String.valueOf(peer), "spki-sha256", digest,
                        "accepted", ok, "trust", rpkTrustAll ? "all" : "store"));
                if (ok) return new CertificateVerificationResult(cid, key, null);
                return new CertificateVerificationResult(cid, new HandshakeException(
                        key == null ? "no client raw public key" : "client raw public key " + digest + " is not registered",
                        new AlertMessage(AlertMessage.AlertLevel.FATAL, AlertMessage.AlertDescription.BAD_CERTIFICATE)));
            }
        };
    }

    /** The LwM2M server's dm-coaps-rpk endpoint: Leshan's own CoAPS set-up, given the RPK
     *  identity instead of the X.509 one the other endpoints have. */
    static class RpkServerEndpointFactory extends CoapsServerEndpointFactory {
        RpkServerEndpointFactory(EndpointUri uri, Configuration c) {
            super(uri, "LwM2M Server rpk", c, b -> b.setCertificateVerifier(rpkVerifier("dm", dmSec)), null,
                    new DefaultEndPointUriHandler());
        }

        @Override
        protected void setUpDtlsConfig(DtlsConnectorConfig.Builder b, InetSocketAddress a, ServerSecurityInfo s, LeshanServer l) {
            super.setUpDtlsConfig(b, a, new ServerSecurityInfo(rpkPrivate, rpkPublic, null, null), l);
        }
    }

    /** The bootstrap server's bs-coaps-rpk endpoint (as RpkServerEndpointFactory). */
    static class RpkBootstrapEndpointFactory extends CoapsBootstrapServerEndpointFactory {
        RpkBootstrapEndpointFactory(EndpointUri uri, Configuration c) {
            super(uri, "Bootstrap Server rpk", c, b -> b.setCertificateVerifier(rpkVerifier("bs", bsSec)), null,
                    new DefaultEndPointUriHandler());
        }

        @Override
        protected void setUpDtlsConfig(DtlsConnectorConfig.Builder b, InetSocketAddress a, ServerSecurityInfo s,
                LeshanBootstrapServer l) {
            super.setUpDtlsConfig(b, a, new ServerSecurityInfo(rpkPrivate, rpkPublic, null, null), l);
        }
    }

    // MARK: - Files: a large Write, a CoAP file server

    static CoapServer fileServer;
    static Configuration fileServerConfiguration;
    static String fileServerHost;

    /** A file's bytes as a CoAP resource: 2.05 with the whole file, an ETag (its SHA-256's first
     *  8 bytes) and Content-Format 42; Californium's blockwise layer cuts it into Block2 blocks
     *  (and serves a block asked for directly, e.g. a download resuming, from the whole). */
    static class FileResource extends CoapResource {
        final byte[] body;
        final byte[] etag;

        FileResource(String name, byte[] body) throws Exception {
            super(name);
            this.body = body;
            this.etag = Arrays.copyOf(MessageDigest.getInstance("SHA-256").digest(body), 8);
        }

        @Override
        public void handleGET(CoapExchange exchange) {
            org.eclipse.californium.core.coap.Response r =
                    new org.eclipse.californium.core.coap.Response(CoAP.ResponseCode.CONTENT);
            r.getOptions().setContentFormat(MediaTypeRegistry.APPLICATION_OCTET_STREAM);
            r.getOptions().addETag(etag);
            r.setPayload(body);
            exchange.respond(r);
        }
    }

    /** Serves {@code file} at coap://host:port/name (started on first use, one port for all). */
    static synchronized Map<String, Object> serveFile(String name, String file) throws Exception {
        if (name == null || !name.matches("[A-Za-z0-9._-]+")) throw new IllegalArgumentException("name " + name);
        byte[] body = Files.readAllBytes(Paths.get(file));
        if (fileServer == null) {
            CoapEndpoint endpoint = new CoapEndpoint.Builder().setConfiguration(fileServerConfiguration)
                    .setInetSocketAddress(new InetSocketAddress(fileServerHost, 0)).setLoggingTag("[FW]").build();
            endpoint.addInterceptor(interceptor("FW-coap"));
            fileServer = new CoapServer(fileServerConfiguration);
            fileServer.addEndpoint(endpoint);
            fileServer.start();
        }
        if (fileServer.getRoot().getChild(name) != null) fileServer.remove(fileServer.getRoot().getChild(name));
        FileResource resource = new FileResource(name, body);
        fileServer.add(resource);
        int port = fileServer.getEndpoints().get(0).getAddress().getPort();
        return fields("uri", "coap://" + fileServerHost + ":" + port + "/" + name, "size", body.length,
                "etag", hex(resource.etag));
    }

    // MARK: - Requests

    static Map<String, String> query(HttpExchange x) {
        Map<String, String> m = new LinkedHashMap<>();
        String raw = x.getRequestURI().getRawQuery();
        if (raw == null) return m;
        for (String kv : raw.split("&")) {
            int i = kv.indexOf('=');
            String k = i < 0 ? kv : kv.substring(0, i);
            String v = i < 0 ? "" : URLDecoder.decode(kv.substring(i + 1), StandardCharsets.UTF_8);
            m.put(k, v);
        }
        return m;
    }

    static ContentFormat format(String s) {
        if (s == null || s.isEmpty()) return null;
        ContentFormat f = ContentFormat.fromName(s);
        if (f == null) throw new IllegalArgumentException("unknown content format " + s + " (Leshan 2.0.0-M18 knows "
                + Arrays.toString(ContentFormat.knownContentFormat) + ")");
        return f;
    }

    static Registration reg(Map<String, String> p) {
        Registration r = server.getRegistrationService().getByEndpoint(p.get("ep"));
        if (r == null) throw new IllegalArgumentException("no registration for " + p.get("ep"));
        return r;
    }

    /** A request's timeout: {@code timeout} or {@code request-timeout} (seconds, default 10). */
    static long timeout(Map<String, String> p) {
        return Long.parseLong(p.getOrDefault("request-timeout", p.getOrDefault("timeout", "10"))) * 1000;
    }

    static LwM2mSingleResource res(int id, String type, String v) {
        switch (type) {
            case "s": return LwM2mSingleResource.newStringResource(id, v);
            case "i": return LwM2mSingleResource.newIntegerResource(id, Long.parseLong(v));
            case "u": return LwM2mSingleResource.newUnsignedIntegerResource(id, org.eclipse.leshan.core.util.datatype.ULong.valueOf(v));
            case "b": return LwM2mSingleResource.newBooleanResource(id, Boolean.parseBoolean(v));
            case "f": return LwM2mSingleResource.newFloatResource(id, Double.parseDouble(v));
            case "t": return LwM2mSingleResource.newDateResource(id, new Date(Long.parseLong(v) * 1000));
            case "o": return LwM2mSingleResource.newBinaryResource(id, unhex(v));
            case "l": {
                String[] a = v.split(":");
                return LwM2mSingleResource.newObjectLinkResource(id, new ObjectLink(Integer.parseInt(a[0]), Integer.parseInt(a[1])));
            }
            default: throw new IllegalArgumentException("type " + type);
        }
    }

    static List<LwM2mResource> resources(String spec) {
        List<LwM2mResource> rs = new ArrayList<>();
        for (String s : spec.split(",")) {
            String[] a = s.split(":", 3);
            rs.add(res(Integer.parseInt(a[0]), a[1], a[2]));
        }
        return rs;
    }

    static Object handle(String op, Map<String, String> p) throws Exception {
        String path = p.get("path");
        switch (op) {
        case "events": {
            int from = Integer.parseInt(p.getOrDefault("from", "0"));
            String ep = p.get("ep");
            List<Map<String, Object>> list = new ArrayList<>();
            int next;
            synchronized (events) {
                for (int i = from; i < events.size(); i++)
                    if (ep == null || ep.equals(events.get(i).get("ep"))) list.add(events.get(i));
                next = events.size();
            }
            return fields("events", list, "next", next);
        }
        case "clients": {
            List<Map<String, Object>> list = new ArrayList<>();
            server.getRegistrationService().getAllRegistrations().forEachRemaining(r -> {
                Map<String, Object> m = regInfo(r);
                m.put("ep", r.getEndpoint());
                list.add(m);
            });
            return fields("clients", list);
        }
        case "read":
            return response(server.send(reg(p), new ReadRequest(format(p.get("format")), path), timeout(p)), path);
        case "discover":
            return response(server.send(reg(p), new DiscoverRequest(path), timeout(p)), path);
        case "write": {
            LwM2mPath lp = new LwM2mPath(path);
            ContentFormat f = format(p.get("format"));
            WriteRequest w;
            if (lp.isResource()) {
                w = new WriteRequest(WriteRequest.Mode.REPLACE, f == null ? ContentFormat.TLV : f, path,
                        res(lp.getResourceId(), p.getOrDefault("type", "s"), p.get("value")));
            } else {
                WriteRequest.Mode mode = "update".equals(p.get("mode")) ? WriteRequest.Mode.UPDATE : WriteRequest.Mode.REPLACE;
                w = new WriteRequest(mode, f == null ? ContentFormat.TLV : f, lp.getObjectId(), lp.getObjectInstanceId(),
                        resources(p.get("res")));
            }
            return response(server.send(reg(p), w, timeout(p)), path);
        }
        case "writefile": {
            byte[] body = Files.readAllBytes(Paths.get(p.get("file")));
            ContentFormat f = format(p.getOrDefault("format", "OPAQUE"));
            WriteRequest w = new WriteRequest(WriteRequest.Mode.REPLACE, f, path,
                    LwM2mSingleResource.newBinaryResource(new LwM2mPath(path).getResourceId(), body));
            long started = System.nanoTime();
            Map<String, Object> m = response(server.send(reg(p), w, timeout(p)), path);
            m.put("seconds", (System.nanoTime() - started) / 1e9);
            m.put("bytes", body.length);
            return m;
        }
        case "coapfile":
            return serveFile(p.get("name"), p.get("file"));
        case "wattr": {
            Collection<LwM2mAttribute<?>> attrs = new DefaultLwM2mAttributeParser().parseUriQuery(p.get("q"));
            return response(server.send(reg(p), new WriteAttributesRequest(path, new LwM2mAttributeSet(attrs)), timeout(p)), path);
        }
        case "observe":
            return response(server.send(reg(p), new ObserveRequest(format(p.get("format")), path), timeout(p)), path);
        case "cancel":
            return fields("cancelled", server.getObservationService().cancelObservations(reg(p), path));
        case "ccancel":
            return fields("cancelled", server.getObservationService().cancelCompositeObservations(reg(p), p.get("paths").split(",")));
        case "obs": {
            List<String> list = new ArrayList<>();
            for (Observation o : server.getObservationService().getObservations(reg(p))) list.add(String.valueOf(o));
            return fields("observations", list);
        }
        case "exec":
            return response(server.send(reg(p), p.containsKey("args") ? new ExecuteRequest(path, p.get("args"))
                    : new ExecuteRequest(path), timeout(p)), path);
        case "create": {
            ContentFormat f = format(p.getOrDefault("format", "TLV"));
            List<LwM2mResource> rs = resources(p.get("res"));
            CreateRequest c = p.containsKey("inst")
                    ? new CreateRequest(f, path, new LwM2mObjectInstance(Integer.parseInt(p.get("inst")), rs))
                    : new CreateRequest(f, path, rs);
            return response(server.send(reg(p), c, timeout(p)), path);
        }
        case "delete":
            return response(server.send(reg(p), new DeleteRequest(path), timeout(p)), path);
        case "rcomp": {
            ContentFormat f = format(p.getOrDefault("format", "SENML_CBOR"));
            return response(server.send(reg(p), new ReadCompositeRequest(f, f, p.get("paths").split(",")), timeout(p)), "/");
        }
        case "ocomp": {
            ContentFormat f = format(p.getOrDefault("format", "SENML_CBOR"));
            return response(server.send(reg(p), new ObserveCompositeRequest(f, f, p.get("paths").split(",")), timeout(p)), "/");
        }
        case "wcomp": {
            ContentFormat f = format(p.getOrDefault("format", "SENML_CBOR"));
            Map<String, Object> vals = new LinkedHashMap<>();
            for (String s : p.get("vals").split(",")) {
                String[] a = s.split(":", 3);
                vals.put(a[0], res(new LwM2mPath(a[0]).getResourceId(), a[1], a[2]).getValue());
            }
            return response(server.send(reg(p), new WriteCompositeRequest(f, vals), timeout(p)), "/");
        }
        case "psk": {
            SecurityInfo si = SecurityInfo.newPreSharedKeyInfo(p.get("ep"), p.get("id"), unhex(p.get("key")));
            ("bs".equals(p.get("who")) ? bsSec : dmSec).add(si);
            return fields("ok", true);
        }
        case "x509": {
            SecurityInfo si = SecurityInfo.newX509CertInfo(p.get("ep"));
            ("bs".equals(p.get("who")) ? bsSec : dmSec).add(si);
            return fields("ok", true);
        }
        case "rpk": {
            byte[] spki = spkiParameter(p.get("spki"));
            SecurityInfo si = SecurityInfo.newRawPublicKeyInfo(p.get("ep"), decodeSpki(spki));
            ("bs".equals(p.get("who")) ? bsSec : dmSec).add(si);
            return fields("ok", true, "spki-sha256", sha256(spki));
        }
        case "rpktrust": {
            String mode = p.getOrDefault("mode", "store");
            if (!mode.equals("store") && !mode.equals("all")) throw new IllegalArgumentException("mode " + mode);
            rpkTrustAll = mode.equals("all");
            return fields("ok", true, "mode", mode);
        }
        case "unsec":
            ("bs".equals(p.get("who")) ? bsSec : dmSec).remove(p.get("ep"), true);
            return fields("ok", true);
        case "bsconfig": {
            BootstrapConfig c = new BootstrapConfig();
            c.toDelete = new ArrayList<>(Arrays.asList(p.getOrDefault("delete", "/0,/1").split(",")));
            int ssid = Integer.parseInt(p.getOrDefault("ssid", "1"));
            BootstrapConfig.ServerConfig sc = new BootstrapConfig.ServerConfig();
            sc.shortId = ssid;
            sc.lifetime = Integer.parseInt(p.getOrDefault("lifetime", "300"));
            sc.binding = EnumSet.noneOf(BindingMode.class);
            for (char b : p.getOrDefault("binding", "U").toCharArray()) sc.binding.add(BindingMode.valueOf(String.valueOf(b)));
            c.servers.put(0, sc);
            BootstrapConfig.ServerSecurity ss = new BootstrapConfig.ServerSecurity();
            ss.uri = p.get("uri");
            ss.serverId = ssid;
            String mode = p.getOrDefault("mode", "nosec");
            if (mode.equals("psk")) {
                ss.securityMode = SecurityMode.PSK;
                ss.publicKeyOrId = p.get("id").getBytes(StandardCharsets.UTF_8);
                ss.secretKey = unhex(p.get("key"));
            } else if (mode.equals("x509")) {
                ss.securityMode = SecurityMode.X509;
                ss.publicKeyOrId = Files.readAllBytes(Paths.get(p.get("cert")));
                ss.secretKey = Files.readAllBytes(Paths.get(p.get("pkey")));
                ss.serverPublicKey = Files.readAllBytes(Paths.get(p.get("scert")));
                if (p.containsKey("usage")) ss.certificateUsage = CertificateUsage.fromCode(Integer.parseInt(p.get("usage")));
            } else if (mode.equals("rpk")) {
                // Leshan checks these (DefaultConfigurationChecker): SPKI DER public keys, an
                // RFC 5958 (PKCS#8) DER private key.
                ss.securityMode = SecurityMode.RPK;
                // pub/spub: the names the RPK parameters had before the harness was one (aliases).
                if (p.containsKey("pub")) p.putIfAbsent("cert", p.get("pub"));
                if (p.containsKey("spub")) p.putIfAbsent("scert", p.get("spub"));
                ss.publicKeyOrId = Files.readAllBytes(Paths.get(p.get("cert")));
                ss.secretKey = Files.readAllBytes(Paths.get(p.get("pkey")));
                if (!p.containsKey("scert") && rpkPublic == null)
                    throw new IllegalArgumentException("mode=rpk needs scert (the harness has no --rpk-pub)");
                ss.serverPublicKey = p.containsKey("scert") ? Files.readAllBytes(Paths.get(p.get("scert")))
                        : rpkPublic.getEncoded();
            } else if (mode.equals("nosec")) {
                ss.securityMode = SecurityMode.NO_SEC;
            } else {
                throw new IllegalArgumentException("mode " + mode);
            }
            c.security.put(1, ss);
            if (p.containsKey("fmt")) c.contentFormat = format(p.get("fmt"));
            // autoid=true: Leshan first runs Bootstrap-Discover on /0 and picks the Security
            // instance IDs from what the client lists.
            c.autoIdForSecurityObject = Boolean.parseBoolean(p.getOrDefault("autoid", "false"));
            bsConfigs.add(p.get("ep"), c);
            Map<String, Object> r = fields("ok", true, "config", String.valueOf(c));
            if (ss.securityMode == SecurityMode.RPK)  // what /0/1/3 and /0/1/4 will hold, /0/1/5's size
                r.put("rpk", fields("public-key-sha256", sha256(ss.publicKeyOrId), "server-public-key-sha256",
                        sha256(ss.serverPublicKey), "secret-key-bytes", ss.secretKey.length));
            return r;
        }
        default:
            throw new IllegalArgumentException("unknown operation " + op);
        }
    }

    // MARK: - Start

    static X509Certificate loadCert(String f) throws Exception {
        try (InputStream in = new FileInputStream(f)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    static PrivateKey loadKey(String f) throws Exception {
        return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Files.readAllBytes(Paths.get(f))));
    }

    static int port(URI uri) { return uri == null ? -1 : uri.getPort(); }

    public static void main(String[] argv) throws Exception {
        Map<String, String> a = new HashMap<>();
        for (int i = 0; i + 1 < argv.length; i += 2) {
            if (!argv[i].startsWith("--")) throw new IllegalArgumentException("bad argument " + argv[i]);
            a.put(argv[i].substring(2), argv[i + 1]);
        }
        String host = a.getOrDefault("host", "127.0.0.1");
        String cert = a.get("cert"), key = a.get("key"), ca = a.get("ca");
        if (a.containsKey("rpk-key") != a.containsKey("rpk-pub"))
            throw new IllegalArgumentException("--rpk-key and --rpk-pub go together");
        if (a.containsKey("rpk-key")) {
            rpkPrivate = loadKey(a.get("rpk-key"));
            rpkPublic = decodeSpki(Files.readAllBytes(Paths.get(a.get("rpk-pub"))));
        }

        LeshanServerBuilder builder = new LeshanServerBuilder();
        builder.setObjectModelProvider(models);
        builder.setSecurityStore(dmSec);
        if (cert != null) {
            builder.setPrivateKey(loadKey(key));
            builder.setCertificateChain(new X509Certificate[] { loadCert(cert) });
            builder.setTrustedCertificates(new java.security.cert.Certificate[] { loadCert(ca) });
        }
        CaliforniumServerEndpointsProvider.Builder eb = new CaliforniumServerEndpointsProvider.Builder(
                new CoapServerProtocolProvider(), new CoapsServerProtocolProvider());
        Configuration configuration = eb.createDefaultConfiguration();
        blockwise(configuration);
        eb.setConfiguration(configuration);
        fileServerConfiguration = new Configuration(configuration);
        fileServerHost = host;
        eb.addEndpoint(new InetSocketAddress(host, Integer.parseInt(a.getOrDefault("dm-coap", "0"))), Protocol.COAP);
        eb.addEndpoint(new InetSocketAddress(host, Integer.parseInt(a.getOrDefault("dm-coaps", "0"))), Protocol.COAPS);
        eb.addEndpoint(new CoapServerEndpointFactoryBuilder()
                .setURI(new InetSocketAddress(host, Integer.parseInt(a.getOrDefault("dm-coap-lossy", "0"))))
                .setLoggingTagPrefix("LwM2M Server lossy").setConfiguration(LeshanHarness::lossyLink).build());
        if (rpkPublic != null)
            eb.addEndpoint(new RpkServerEndpointFactory(new EndpointUri("coaps", host,
                    Integer.parseInt(a.getOrDefault("dm-coaps-rpk", "0"))), configuration));
        builder.setEndpointsProviders(eb.build());
        server = builder.build();
        server.getRegistrationService().addListener(new RegistrationListener() {
            public void registered(Registration r, Registration prev, Collection<Observation> obs) {
                ev("registered", r.getEndpoint(), regInfo(r));
            }
            public void updated(RegistrationUpdate u, Registration r, Registration prev) {
                List<String> links = null;
                if (u.getObjectLinks() != null) {
                    links = new ArrayList<>();
                    for (Link l : u.getObjectLinks()) links.add(l.toCoreLinkFormat());
                }
                Map<String, Object> f = regInfo(r);
                f.put("update-lt", u.getLifeTimeInSec());
                f.put("update-binding", u.getBindingMode() == null ? null : String.valueOf(u.getBindingMode()));
                f.put("update-links", links);
                ev("updated", r.getEndpoint(), f);
            }
            public void unregistered(Registration r, Collection<Observation> obs, boolean expired, Registration n) {
                ev("unregistered", r.getEndpoint(), fields("id", r.getId(), "expired", expired));
            }
        });
        server.getObservationService().addListener(new ObservationListener() {
            public void newObservation(Observation o, Registration r) { ev("observation", r.getEndpoint(), fields("text", String.valueOf(o))); }
            public void cancelled(Observation o) { ev("observation-cancelled", null, fields("text", String.valueOf(o))); }
            public void onResponse(SingleObservation o, Registration r, ObserveResponse resp) {
                Map<String, Object> f = response(resp, o.getPath().toString());
                f.put("path", o.getPath().toString());
                ev("notify", r.getEndpoint(), f);
            }
            public void onResponse(CompositeObservation o, Registration r, ObserveCompositeResponse resp) {
                Map<String, Object> f = response(resp, "/");
                f.put("paths", String.valueOf(o.getPaths()));
                ev("notify-composite", r.getEndpoint(), f);
            }
            public void onError(Observation o, Registration r, Exception e) {
                ev("observation-error", r == null ? null : r.getEndpoint(), fields("text", String.valueOf(o), "error", String.valueOf(e)));
            }
        });

        LeshanBootstrapServerBuilder bb = new LeshanBootstrapServerBuilder();
        bb.setObjectModelProvider(new VersionedBootstrapModelProvider(ObjectLoader.loadAllDefault()));
        bb.setConfigStore(bsConfigs);
        bb.setSecurityStore(new BootstrapSecurityStoreAdapter(bsSec));
        if (cert != null) {
            bb.setPrivateKey(loadKey(key));
            bb.setCertificateChain(new X509Certificate[] { loadCert(cert) });
            bb.setTrustedCertificates(new java.security.cert.Certificate[] { loadCert(ca) });
        }
        CaliforniumBootstrapServerEndpointsProvider.Builder beb = new CaliforniumBootstrapServerEndpointsProvider.Builder(
                new CoapBootstrapServerProtocolProvider(), new CoapsBootstrapServerProtocolProvider());
        Configuration bsConfiguration = beb.createDefaultConfiguration();
        beb.setConfiguration(bsConfiguration);
        beb.addEndpoint(new InetSocketAddress(host, Integer.parseInt(a.getOrDefault("bs-coap", "0"))), Protocol.COAP);
        beb.addEndpoint(new InetSocketAddress(host, Integer.parseInt(a.getOrDefault("bs-coaps", "0"))), Protocol.COAPS);
        if (rpkPublic != null)
            beb.addEndpoint(new RpkBootstrapEndpointFactory(new EndpointUri("coaps", host,
                    Integer.parseInt(a.getOrDefault("bs-coaps-rpk", "0"))), bsConfiguration));
        bb.setEndpointsProviders(beb.build());
        bsServer = bb.build();
        bsServer.addListener(new BootstrapSessionListener() {
            public void sessionInitiated(BootstrapRequest r, LwM2mPeer c) {
                ev("bs-initiated", r.getEndpointName(), fields("peer", String.valueOf(c), "rpk-sha256", rpkDigest(c)));
            }
            public void unAuthorized(BootstrapRequest r, LwM2mPeer c) {
                ev("bs-unauthorized", r.getEndpointName(), fields("peer", String.valueOf(c), "rpk-sha256", rpkDigest(c)));
            }
            public void authorized(BootstrapSession s) { ev("bs-authorized", s.getEndpoint(), null); }
            public void noConfig(BootstrapSession s) { ev("bs-noconfig", s.getEndpoint(), null); }
            public void sendRequest(BootstrapSession s, DownlinkBootstrapRequest<? extends LwM2mResponse> r) {
                ev("bs-send", s.getEndpoint(), fields("request", String.valueOf(r)));
            }
            public void onResponseSuccess(BootstrapSession s, DownlinkBootstrapRequest<? extends LwM2mResponse> r, LwM2mResponse resp) {
                Map<String, Object> f = response(resp, "/");
                f.put("request", String.valueOf(r));
                ev("bs-response", s.getEndpoint(), f);
            }
            public void onResponseError(BootstrapSession s, DownlinkBootstrapRequest<? extends LwM2mResponse> r, LwM2mResponse resp) {
                Map<String, Object> f = response(resp, "/");
                f.put("request", String.valueOf(r));
                ev("bs-error-response", s.getEndpoint(), f);
            }
            public void onRequestFailure(BootstrapSession s, DownlinkBootstrapRequest<? extends LwM2mResponse> r, Throwable t) {
                ev("bs-failure", s.getEndpoint(), fields("request", String.valueOf(r), "error", String.valueOf(t)));
            }
            public void end(BootstrapSession s) { ev("bs-end", s.getEndpoint(), null); }
            public void failed(BootstrapSession s, BootstrapFailureCause c) { ev("bs-failed", s.getEndpoint(), fields("cause", String.valueOf(c))); }
        });

        server.start();
        bsServer.start();
        Map<String, Object> ready = new LinkedHashMap<>();
        // The LwM2M server's endpoints by scheme, the lossy-link one by its logging tag.
        for (org.eclipse.leshan.server.endpoint.LwM2mServerEndpoint e : server.getEndpoints()) {
            CoapEndpoint coap = ((CaliforniumServerEndpoint) e).getCoapEndpoint();
            String name = "dm-" + e.getProtocol().getUriScheme() + (coap.getTag().contains("lossy") ? "-lossy" : "")
                    + (coap.getTag().contains("rpk") ? "-rpk" : "");
            coap.addInterceptor(interceptor(name.substring(0, 2).toUpperCase() + name.substring(2)));
            ready.put(name, coap.getAddress().getPort());
        }
        for (org.eclipse.leshan.bsserver.endpoint.LwM2mBootstrapServerEndpoint e : bsServer.getEndpoints()) {
            CoapEndpoint coap = ((CaliforniumBootstrapServerEndpoint) e).getCoapEndpoint();
            String name = e.getProtocol().getUriScheme() + (coap.getTag().contains("rpk") ? "-rpk" : "");
            coap.addInterceptor(interceptor("BS-" + name));
            ready.put("bs-" + name, coap.getAddress().getPort());
        }

        HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", Integer.parseInt(a.getOrDefault("http", "0"))), 0);
        http.setExecutor(Executors.newFixedThreadPool(8));
        http.createContext("/", x -> {
            String op = x.getRequestURI().getPath().substring(1);
            Map<String, String> p = query(x);
            int status = 200;
            Object result;
            try {
                result = handle(op, p);
            } catch (Throwable t) {
                StringWriter sw = new StringWriter();
                t.printStackTrace(new PrintWriter(sw));
                result = fields("exception", sw.toString());
                status = 500;
            }
            if (!op.equals("events")) out("API " + op + " " + p + " -> " + JSON.writeValueAsString(result));
            byte[] b = JSON.writeValueAsBytes(result);
            x.getResponseHeaders().add("Content-Type", "application/json");
            x.sendResponseHeaders(status, b.length);
            x.getResponseBody().write(b);
            x.close();
        });
        http.start();
        ready.put("http", http.getAddress().getPort());
        out("READY " + JSON.writeValueAsString(ready));

        // --parent PID: exit when the test session that started us is gone (even if it was killed
        // before it could stop us), so no JVM outlives its tests.
        if (a.containsKey("parent")) {
            long parent = Long.parseLong(a.get("parent"));
            ScheduledExecutorService watch = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "parent-watch");
                t.setDaemon(true);
                return t;
            });
            watch.scheduleAtFixedRate(() -> {
                if (!ProcessHandle.of(parent).map(ProcessHandle::isAlive).orElse(false)) {
                    out("parent " + parent + " is gone: exiting");
                    Runtime.getRuntime().halt(0);
                }
            }, 1, 1, TimeUnit.SECONDS);
        }
    }
}
