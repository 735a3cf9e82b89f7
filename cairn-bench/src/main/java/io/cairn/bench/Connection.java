package io.cairn.bench;

import io.cairn.invariant.Invariant;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * One keep-alive HTTP/1.1 connection with at most one request outstanding. In a closed loop it
 * writes the next request when the previous response has been read to its end; in an open loop
 * (with an {@link OpenLoopDispatcher}) it offers itself to the dispatcher instead, which hands it
 * the next due slot, and its latency counts from that slot's intended time, not from the send.
 *
 * <p>Concurrency: a connection is pinned to one event loop for its whole life, across reconnects,
 * and every field is touched only on that loop, so none needs synchronization. It talks to the
 * rest of the run only through {@link RunState}, whose members are thread-safe.
 *
 * <p>Failures: a refused or failed connect, a reset, a close with a request in flight, an
 * undecodable response and a request older than the timeout are each counted, and the connection
 * reconnects after a backoff that doubles from 10 ms to at most 1 s and resets on the next
 * successful response. A close with nothing in flight (a server's idle timeout, or a
 * {@code Connection: close} response, after which nothing more is written on the connection)
 * reconnects at the current backoff without counting an error.
 * A timeout tick once a second checks the in-flight request, so timeouts cost no per-request task.
 */
final class Connection implements OpenLoopDispatcher.Sender {
  static final long MIN_BACKOFF_MILLIS = 10;
  static final long MAX_BACKOFF_MILLIS = 1_000;

  private final RunState run;
  private final InetSocketAddress address;
  private final RequestEncoder encoder;
  private final EventLoop loop;
  private final Bootstrap bootstrap;
  private final SplittableRandom random;
  // Null in a closed loop.
  private final OpenLoopDispatcher dispatcher;

  private Channel channel;
  // Invariant: inFlight != null iff a request was written on `channel` and its response has not
  // ended; inFlightPrefill, sentNanos and intendedNanos describe that request (intendedNanos is
  // sentNanos in a closed loop, the slot's time in an open one).
  private Operation inFlight;
  private boolean inFlightPrefill;
  private long sentNanos;
  private long intendedNanos;
  // Status of the response being read, 0 until its head arrives; whether it keeps the connection.
  private int responseStatus;
  private boolean responseKeepAlive;
  // Invariant: offered implies inFlight == null and the dispatcher lists this connection as idle.
  private boolean offered;
  // Invariant: 0 <= backoffMillis <= MAX_BACKOFF_MILLIS.
  private long backoffMillis;
  private boolean connecting;
  private boolean closed;
  private ScheduledFuture<?> timeoutTick;

  Connection(
      RunState run,
      InetSocketAddress address,
      RequestEncoder encoder,
      EventLoop loop,
      Transport transport,
      int connectTimeoutMillis,
      long seed,
      OpenLoopDispatcher dispatcher) {
    this.run = run;
    this.dispatcher = dispatcher;
    this.address = address;
    this.encoder = encoder;
    this.loop = loop;
    this.random = new SplittableRandom(seed);
    this.bootstrap =
        new Bootstrap()
            .group(loop)
            .channel(transport.channelClass())
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
            .handler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(new HttpResponseDecoder(), new ResponseHandler());
                  }
                });
  }

  /** Connects and, if the run is sending, starts the loop. Safe to call from any thread. */
  void start() {
    loop.execute(
        () -> {
          timeoutTick = loop.scheduleAtFixedRate(this::checkTimeout, 1, 1, TimeUnit.SECONDS);
          connect();
        });
  }

  /** Sends a request if the connection is idle; used when the run's phase changes. */
  void kick() {
    loop.execute(this::sendNext);
  }

  /** Closes for good; no reconnect follows. Safe to call from any thread. */
  void close() {
    loop.execute(
        () -> {
          closed = true;
          if (timeoutTick != null) {
            timeoutTick.cancel(false);
          }
          if (channel != null) {
            channel.close();
          }
        });
  }

  private void connect() {
    if (closed || connecting || channel != null) {
      return;
    }
    connecting = true;
    ChannelFuture future = bootstrap.connect(address);
    future.addListener(
        (ChannelFuture f) -> {
          connecting = false;
          if (!f.isSuccess()) {
            if (!closed) {
              run.onConnectFailure();
              scheduleReconnect();
            }
            return;
          }
          Channel ch = f.channel();
          if (closed) {
            ch.close();
            return;
          }
          channel = ch;
          ch.closeFuture().addListener(closeFuture -> onClosed(ch));
          sendNext();
        });
  }

  private void sendNext() {
    if (closed || channel == null || inFlight != null || offered || !channel.isActive()) {
      return;
    }
    switch (run.phase()) {
      case PREFILL -> {
        long key = run.claimPrefillKey();
        if (key >= 0) {
          write(Operation.PUT, key, true, System.nanoTime());
        }
      }
      case RUN -> {
        if (dispatcher != null) {
          // Set before the call: the dispatcher may hand over a waiting slot right away.
          offered = true;
          dispatcher.onIdle(this);
        } else {
          write(nextOperation(), run.keys().next(random), false, System.nanoTime());
        }
      }
      default -> {
        // IDLE and STOP send nothing.
      }
    }
  }

  /** Takes one open-loop slot; called by the dispatcher on this connection's loop. */
  @Override
  public void send(long slotNanos) {
    Invariant.check(offered && inFlight == null, "an open-loop slot went to a busy connection");
    offered = false;
    Operation op = nextOperation();
    if (closed || channel == null || !channel.isActive() || run.phase() != RunState.Phase.RUN) {
      // Closed under the dispatcher's feet (its close listener has not run yet): the slot fails.
      run.stats(op).onConnectionLost();
      return;
    }
    write(op, run.keys().next(random), false, slotNanos);
  }

  private Operation nextOperation() {
    return run.mix().pick(random.nextInt(run.mix().totalWeight()));
  }

  private void write(Operation op, long key, boolean prefill, long intended) {
    ByteBuf request = encoder.encode(channel.alloc(), op, key, random);
    inFlight = op;
    inFlightPrefill = prefill;
    responseStatus = 0;
    responseKeepAlive = true;
    sentNanos = System.nanoTime();
    intendedNanos = intended;
    channel.writeAndFlush(request, channel.voidPromise());
  }

  private void onResponseHead(int status, boolean keepAlive) {
    responseStatus = status;
    responseKeepAlive = keepAlive;
  }

  private void onResponseEnd() {
    long latencyNanos = System.nanoTime() - intendedNanos;
    Operation op = inFlight;
    boolean prefill = inFlightPrefill;
    inFlight = null;
    if (prefill) {
      run.onPrefillResult(op.isSuccess(responseStatus));
    } else {
      run.stats(op).onResponse(responseStatus, latencyNanos);
    }
    backoffMillis = 0;
    if (!responseKeepAlive) {
      // The server closes after this answer (a refusal, a shed request): nothing more may be
      // written here. The close reconnects without counting an error, as nothing is in flight.
      channel.close();
      return;
    }
    sendNext();
  }

  /** A failure that poisons the connection: count it against the request in flight, if any. */
  private void failInFlight(boolean protocolError) {
    if (inFlight == null) {
      return;
    }
    if (inFlightPrefill) {
      run.onPrefillResult(false);
    } else if (protocolError) {
      run.stats(inFlight).onProtocolError();
    } else {
      run.stats(inFlight).onConnectionLost();
    }
    inFlight = null;
  }

  private void onClosed(Channel ch) {
    if (ch != channel) {
      return;
    }
    channel = null;
    if (offered) {
      offered = false;
      dispatcher.onGone(this);
    }
    if (!closed && run.phase() != RunState.Phase.STOP) {
      failInFlight(false);
      scheduleReconnect();
    }
    inFlight = null;
  }

  private void checkTimeout() {
    if (inFlight != null && System.nanoTime() - sentNanos > run.requestTimeoutNanos()) {
      if (inFlightPrefill) {
        run.onPrefillResult(false);
      } else {
        run.stats(inFlight).onTimeout();
      }
      inFlight = null;
      if (channel != null) {
        channel.close();
      }
    }
  }

  private void scheduleReconnect() {
    if (closed) {
      return;
    }
    long delay = backoffMillis;
    backoffMillis = Math.min(MAX_BACKOFF_MILLIS, Math.max(MIN_BACKOFF_MILLIS, backoffMillis * 2));
    if (delay == 0) {
      loop.execute(this::connect);
    } else {
      loop.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
    }
  }

  /** Reads responses on the current channel; a new instance per channel. */
  private final class ResponseHandler extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (ctx.channel() != channel) {
          return;
        }
        if (inFlight == null
            || (msg instanceof HttpObject http && http.decoderResult().isFailure())) {
          failInFlight(true);
          ctx.close();
          return;
        }
        if (msg instanceof HttpResponse response) {
          onResponseHead(response.status().code(), HttpUtil.isKeepAlive(response));
        }
        if (msg instanceof LastHttpContent) {
          onResponseEnd();
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
