import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

/**
 * The repository's own JDK TLS server for the interop tests: an SSLEngine driven over a socket
 * the way Netty drives it under Elasticsearch's HTTP port, reporting every failed handshake as
 * the exception JSSE threw (with each cause) and the bytes it wrote afterwards (its alert).
 *
 * Usage: java TlsPeer.java, then one listener per stdin line
 *   name|cert.pem|key.pem|trusted-cas.pem or -|none, want or need|TLSv1.3,TLSv1.2
 * and an empty line. It prints one JSON line per listener and per connection; EOF on stdin stops it.
 */
public class TlsPeer {
  public static void main(String[] args) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
      start(line.split("\\|"));
    }
    while (in.readLine() != null) {
      // keep serving until the test closes stdin
    }
    System.exit(0);
  }

  static synchronized void emit(String json) {
    System.out.println(json);
    System.out.flush();
  }

  static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') b.append('\\').append(c);
      else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
      else b.append(c);
    }
    return b.append('"').toString();
  }

  static List<Certificate> certificates(String file) throws Exception {
    try (var stream = Files.newInputStream(Path.of(file))) {
      Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(stream);
      return new ArrayList<>(certs);
    }
  }

  static PrivateKey privateKey(String file) throws Exception {
    String pem = Files.readString(Path.of(file)).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(Base64.getDecoder().decode(pem));
    try {
      return KeyFactory.getInstance("RSA").generatePrivate(spec);
    } catch (java.security.spec.InvalidKeySpecException notRsa) {
      return KeyFactory.getInstance("EC").generatePrivate(spec);
    }
  }

  static void start(String[] spec) throws Exception {
    String name = spec[0];
    char[] password = "interop".toCharArray();
    KeyStore keys = KeyStore.getInstance("PKCS12");
    keys.load(null, null);
    keys.setKeyEntry("server", privateKey(spec[2]), password, certificates(spec[1]).toArray(new Certificate[0]));
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(keys, password);
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    if (!spec[3].equals("-")) {
      int i = 0;
      for (Certificate ca : certificates(spec[3])) trust.setCertificateEntry("ca" + i++, ca);
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    String auth = spec[4];
    String[] protocols = spec[5].split(",");

    ServerSocketChannel server = ServerSocketChannel.open();
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
    Thread acceptor = new Thread(() -> {
      while (true) {
        try {
          SocketChannel channel = server.accept();
          SSLEngine engine = context.createSSLEngine();
          engine.setUseClientMode(false);
          engine.setEnabledProtocols(protocols);
          if (auth.equals("need")) engine.setNeedClientAuth(true);
          if (auth.equals("want")) engine.setWantClientAuth(true);
          new Thread(() -> handle(name, channel, engine)).start();
        } catch (Exception e) {
          return;
        }
      }
    });
    acceptor.setDaemon(true);
    acceptor.start();
    emit("{\"event\":\"listening\",\"name\":" + quote(name) + ",\"port\":" + port + "}");
  }

  /** One connection: handshake, answer one HTTP request, or report what JSSE threw. */
  static void handle(String name, SocketChannel channel, SSLEngine engine) {
    int remotePort = 0;
    ByteBuffer netOut = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
    StringBuilder wrote = new StringBuilder();
    try {
      remotePort = ((InetSocketAddress) channel.getRemoteAddress()).getPort();
      ByteBuffer netIn = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
      ByteBuffer app = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize() + 64);
      engine.beginHandshake();
      boolean responded = false;
      while (!responded) {
        SSLEngineResult.HandshakeStatus status = engine.getHandshakeStatus();
        if (status == SSLEngineResult.HandshakeStatus.NEED_TASK) {
          for (Runnable task = engine.getDelegatedTask(); task != null; task = engine.getDelegatedTask()) task.run();
        } else if (status == SSLEngineResult.HandshakeStatus.NEED_WRAP) {
          netOut.clear();
          engine.wrap(ByteBuffer.allocate(0), netOut);
          write(channel, netOut, null);
        } else {
          // NEED_UNWRAP, NEED_UNWRAP_AGAIN, or application data once the handshake is done.
          netIn.flip();
          SSLEngineResult result = engine.unwrap(netIn, app);
          netIn.compact();
          if (result.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW
              || (result.bytesConsumed() == 0 && result.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING)) {
            if (channel.read(netIn) < 0) {
              engine.closeInbound();
              return;
            }
          }
          if (result.getStatus() == SSLEngineResult.Status.CLOSED) return;
          String request = new String(app.array(), 0, app.position(), StandardCharsets.ISO_8859_1);
          if (request.contains("\r\n\r\n")) {
            String peer = "none";
            try {
              peer = engine.getSession().getPeerPrincipal().getName();
            } catch (javax.net.ssl.SSLPeerUnverifiedException none) {
              // no client certificate
            }
            byte[] body = ("client certificate: " + peer + "\n").getBytes(StandardCharsets.UTF_8);
            String head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n";
            ByteBuffer plain = ByteBuffer.wrap((head + new String(body, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8));
            netOut.clear();
            engine.wrap(plain, netOut);
            write(channel, netOut, null);
            emit("{\"event\":\"ok\",\"name\":" + quote(name) + ",\"remotePort\":" + remotePort + ",\"protocol\":" + quote(engine.getSession().getProtocol()) + ",\"peer\":" + quote(peer) + "}");
            responded = true;
          }
        }
      }
      engine.closeOutbound();
    } catch (SSLException e) {
      // As Netty does after a failed unwrap: flush what the engine still has to say (its alert).
      try {
        engine.closeOutbound();
        for (int i = 0; i < 4 && !engine.isOutboundDone(); i++) {
          netOut.clear();
          engine.wrap(ByteBuffer.allocate(0), netOut);
          write(channel, netOut, wrote);
        }
      } catch (Exception ignored) {
        // the peer may be gone already
      }
      StringBuilder chain = new StringBuilder();
      for (Throwable t = e; t != null; t = t.getCause()) chain.append(chain.length() == 0 ? "" : ",").append(quote(t.toString()));
      emit("{\"event\":\"failed\",\"name\":" + quote(name) + ",\"remotePort\":" + remotePort + ",\"chain\":[" + chain + "],\"wrote\":" + quote(wrote.toString()) + "}");
    } catch (Exception e) {
      emit("{\"event\":\"io\",\"name\":" + quote(name) + ",\"remotePort\":" + remotePort + ",\"error\":" + quote(e.toString()) + "}");
    } finally {
      try {
        channel.close();
      } catch (Exception ignored) {
        // closing anyway
      }
      // After any report about this connection: a test that reads it knows nothing more will come.
      emit("{\"event\":\"closed\",\"name\":" + quote(name) + ",\"remotePort\":" + remotePort + "}");
    }
  }

  static void write(SocketChannel channel, ByteBuffer out, StringBuilder hex) throws Exception {
    out.flip();
    if (hex != null) for (int i = out.position(); i < out.limit(); i++) hex.append(String.format("%02x", out.get(i)));
    while (out.hasRemaining()) channel.write(out);
  }
}
