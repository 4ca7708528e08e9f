using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ChatOpsInspector.Bench.Harness;

/// <summary>
/// A TCP relay in front of Redis that counts the commands one client sends, by name. Redis's own
/// counters also count the commands a Lua script runs inside the server; this counts what crosses
/// the wire, i.e. the round trips the bot pays for.
/// </summary>
internal sealed class RedisCountingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _upstream;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, long> _commands = new(StringComparer.OrdinalIgnoreCase);

    public RedisCountingProxy(int upstreamPort)
    {
        _upstream = upstreamPort;
        _listener.Start();
        _ = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public string ConnectionString => $"127.0.0.1:{Port},abortConnect=false,connectTimeout=2000,syncTimeout=5000,asyncTimeout=5000";

    public IReadOnlyDictionary<string, long> Snapshot() => new Dictionary<string, long>(_commands, StringComparer.OrdinalIgnoreCase);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using var _ = client;
        using var server = new TcpClient();
        try
        {
            await server.ConnectAsync(IPAddress.Loopback, _upstream, _stop.Token);
            client.NoDelay = server.NoDelay = true;
            var parser = new RespCommandCounter(name => _commands.AddOrUpdate(name, 1, (_, n) => n + 1));
            var up = PumpAsync(client.GetStream(), server.GetStream(), parser);
            var down = PumpAsync(server.GetStream(), client.GetStream(), null);
            await Task.WhenAny(up, down);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
        {
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, RespCommandCounter? counter)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var n = await from.ReadAsync(buffer, _stop.Token);
                if (n == 0)
                {
                    return;
                }
                counter?.Feed(buffer.AsSpan(0, n));
                await to.WriteAsync(buffer.AsMemory(0, n), _stop.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    public ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        return ValueTask.CompletedTask;
    }

    /// <summary>Incremental RESP request parser: arrays of bulk strings, as clients send them.</summary>
    private sealed class RespCommandCounter(Action<string> onCommand)
    {
        private readonly StringBuilder _line = new();
        private int _elementsLeft;
        private long _bulkLeft = -1;   // bytes of the current bulk payload (+2 for CRLF) still to skip
        private bool _first;
        private readonly StringBuilder _name = new();

        public void Feed(ReadOnlySpan<byte> data)
        {
            var i = 0;
            while (i < data.Length)
            {
                if (_bulkLeft > 0)
                {
                    var take = (int)Math.Min(_bulkLeft, data.Length - i);
                    if (_first)
                    {
                        foreach (var b in data.Slice(i, take))
                        {
                            if (b is not (byte)'\r' and not (byte)'\n' && _name.Length < 32)
                            {
                                _name.Append((char)b);
                            }
                        }
                    }
                    _bulkLeft -= take;
                    i += take;
                    if (_bulkLeft == 0)
                    {
                        if (_first)
                        {
                            onCommand(_name.ToString().ToLowerInvariant());
                            _name.Clear();
                            _first = false;
                        }
                        _elementsLeft--;
                        _bulkLeft = -1;
                    }
                    continue;
                }
                var b0 = data[i++];
                if (b0 != (byte)'\n')
                {
                    if (b0 != (byte)'\r')
                    {
                        _line.Append((char)b0);
                    }
                    continue;
                }
                var line = _line.ToString();
                _line.Clear();
                if (line.Length == 0)
                {
                    continue;
                }
                if (line[0] == '*')
                {
                    _elementsLeft = int.Parse(line.AsSpan(1));
                    _first = true;
                }
                else if (line[0] == '$')
                {
                    _bulkLeft = long.Parse(line.AsSpan(1)) + 2;
                }
                else
                {
                    onCommand(line.Split(' ')[0].ToLowerInvariant());
                }
            }
        }
    }
}
