package newsroom.solrcloud;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.solr.cloud.MiniSolrCloudCluster;
import org.apache.solr.common.cloud.ClusterState;
import org.apache.solr.common.cloud.Replica;
import org.apache.solr.common.cloud.Slice;
import org.apache.solr.embedded.JettySolrRunner;

/**
 * Two Solr nodes and an embedded ZooKeeper in this one JVM (Solr's own MiniSolrCloudCluster),
 * all on 127.0.0.1, for scripts/cluster.
 *
 * <p>Usage: {@code Launcher STATE_FILE SOLR_DIR}. SOLR_DIR is made anew (the cluster is
 * throw-away). Once both nodes are live, the ports are written to STATE_FILE as shell
 * assignments (written whole, then renamed, so a reader never sees half of it).
 *
 * <p>A small HTTP server on 127.0.0.1 (CONTROL_PORT in the state file) lets a test take a node
 * away and bring it back while the other keeps serving:
 *
 * <pre>
 *   POST /nodes/N/stop    stop node N (1 or 2); returns once its replicas have new leaders
 *   POST /nodes/N/start   start it again on the same port; returns once its replicas are active
 *   GET  /status          one line per node: "N PORT running|stopped"
 * </pre>
 *
 * <p>SIGTERM (scripts/cluster down) stops the nodes, then ZooKeeper.
 */
public final class Launcher {
  private static final int NODES = 2;
  private static final long WAIT_SECONDS = 90;

  private final MiniSolrCloudCluster cluster;
  // Ours, in node order: the cluster forgets a node that is stopped, and start order is random.
  private final List<JettySolrRunner> nodes;

  private Launcher(MiniSolrCloudCluster cluster) {
    this.cluster = cluster;
    this.nodes = new ArrayList<>(cluster.getJettySolrRunners());
    // MiniSolrCloudCluster names the nodes' folders node1, node2.
    nodes.sort(Comparator.comparing(JettySolrRunner::getSolrHome));
  }

  public static void main(String[] args) {
    if (args.length != 2) {
      System.err.println("usage: Launcher STATE_FILE SOLR_DIR");
      System.exit(2);
    }
    try {
      run(Path.of(args[0]), Path.of(args[1]));
    } catch (Throwable e) {
      // Exit even though ZooKeeper's or Jetty's threads may live on: scripts/cluster waits for
      // the state file or for this process to end.
      e.printStackTrace();
      System.exit(1);
    }
  }

  private static void run(Path stateFile, Path solrDir) throws Exception {
    deleteRecursively(solrDir);

    MiniSolrCloudCluster cluster =
        new MiniSolrCloudCluster.Builder(NODES, solrDir)
            // Jetty's own shutdown hook would race ours, which stops things in order.
            .withJettyConfig(jetty -> jetty.stopAtShutdown(false))
            // The default picks a tracing flag at random from a test's context; we have none.
            .withTraceIdGenerationDisabled()
            .build();
    Launcher launcher = new Launcher(cluster);
    Runtime.getRuntime().addShutdownHook(new Thread(launcher::stopAll, "solrcloud-shutdown"));

    HttpServer control = launcher.controlServer();
    control.start();
    launcher.writeState(stateFile, control.getAddress().getPort());
    System.err.println("solrcloud: ready, state in " + stateFile);
    // Jetty's, ZooKeeper's and the control server's threads keep the JVM up until SIGTERM.
  }

  private HttpServer controlServer() throws IOException {
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/",
        exchange -> {
          try {
            String path = exchange.getRequestURI().getPath();
            respond(exchange, 200, handle(exchange.getRequestMethod(), path));
          } catch (IllegalArgumentException e) {
            respond(exchange, 404, e.getMessage() + "\n");
          } catch (Exception e) {
            e.printStackTrace();
            respond(exchange, 500, e + "\n");
          }
        });
    return server; // its default executor is one thread: requests are served one at a time
  }

  private String handle(String method, String path) throws Exception {
    String[] parts = path.replaceAll("^/+|/+$", "").split("/");
    if (method.equals("GET") && path.equals("/status")) {
      return status();
    }
    if (method.equals("POST") && parts.length == 3 && parts[0].equals("nodes")) {
      JettySolrRunner node = node(parts[1]);
      switch (parts[2]) {
        case "stop":
          stopNode(node);
          return status();
        case "start":
          startNode(node);
          return status();
        default:
          break;
      }
    }
    throw new IllegalArgumentException("no such command: " + method + " " + path);
  }

  private JettySolrRunner node(String number) {
    try {
      return nodes.get(Integer.parseInt(number) - 1);
    } catch (NumberFormatException | IndexOutOfBoundsException e) {
      throw new IllegalArgumentException("no node " + number + " (1 to " + NODES + ")");
    }
  }

  private void stopNode(JettySolrRunner node) throws Exception {
    if (!node.isRunning()) {
      return;
    }
    String name = node.getNodeName();
    cluster.stopJettySolrRunner(node);
    // Returns once the rest can take writes too: every shard with a replica left has a live
    // leader.
    waitFor(
        "node " + name + " to leave and its shards to elect new leaders",
        state -> !state.getLiveNodes().contains(name) && everyShardLed(state));
  }

  private void startNode(JettySolrRunner node) throws Exception {
    if (node.isRunning()) {
      return;
    }
    // Same port as before: the cluster state names replicas by host:port, so they come back.
    cluster.startJettySolrRunner(node, true);
    cluster.waitForNode(node, (int) WAIT_SECONDS);
    String name = node.getNodeName();
    waitFor(
        "the replicas on " + name + " to recover",
        state ->
            state.getLiveNodes().contains(name)
                && replicasActiveOn(state, name)
                && everyShardLed(state));
  }

  private static boolean everyShardLed(ClusterState state) {
    Set<String> live = state.getLiveNodes();
    return state
        .collectionStream()
        .flatMap(collection -> collection.getSlices().stream())
        .filter(slice -> slice.getReplicas().stream().anyMatch(r -> live.contains(r.getNodeName())))
        .allMatch(slice -> leaderIsActive(slice, live));
  }

  private static boolean leaderIsActive(Slice slice, Set<String> live) {
    Replica leader = slice.getLeader();
    return leader != null && leader.isActive(live);
  }

  private static boolean replicasActiveOn(ClusterState state, String nodeName) {
    Set<String> live = state.getLiveNodes();
    return state
        .collectionStream()
        .flatMap(collection -> collection.getReplicas().stream())
        .filter(replica -> replica.getNodeName().equals(nodeName))
        .allMatch(replica -> replica.isActive(live));
  }

  private interface StateCheck {
    boolean test(ClusterState state);
  }

  private void waitFor(String what, StateCheck check) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
    while (!check.test(cluster.getZkStateReader().getClusterState())) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("gave up after " + WAIT_SECONDS + " s waiting for " + what);
      }
      Thread.sleep(200);
    }
  }

  private String status() {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < nodes.size(); i++) {
      JettySolrRunner node = nodes.get(i);
      out.append(i + 1)
          .append(' ')
          .append(node.getLocalPort())
          .append(' ')
          .append(node.isRunning() ? "running" : "stopped")
          .append('\n');
    }
    return out.toString();
  }

  private void writeState(Path stateFile, int controlPort) throws IOException {
    StringBuilder out = new StringBuilder();
    out.append("SOLR_PID=").append(ProcessHandle.current().pid()).append('\n');
    out.append("ZK_PORT=").append(cluster.getZkServer().getPort()).append('\n');
    for (int i = 0; i < nodes.size(); i++) {
      out.append("SOLR_PORT_").append(i + 1).append('=');
      out.append(nodes.get(i).getLocalPort()).append('\n');
    }
    out.append("CONTROL_PORT=").append(controlPort).append('\n');
    Path partial = stateFile.resolveSibling(stateFile.getFileName() + ".partial");
    Files.writeString(partial, out.toString(), StandardCharsets.UTF_8);
    Files.move(
        partial, stateFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  private void stopAll() {
    try {
      cluster.shutdown();
    } catch (Exception e) {
      e.printStackTrace();
    }
  }

  private static void respond(HttpExchange exchange, int code, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
    exchange.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }
}
