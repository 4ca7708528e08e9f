using System.Diagnostics;

namespace ChatOpsInspector.Tests.Infrastructure;

/// <summary>
/// A real redis-server on a TLS-only loopback port with a certificate signed by a private CA made here
/// (openssl), and a password on the default user — as ElastiCache / MemoryDB with in-transit encryption,
/// or a self-managed Redis behind a corporate CA, is reached.
/// </summary>
public sealed class TlsRedisServer : IAsyncLifetime
{
    public const string Password = "tls-test-pass";

    private readonly string _dir = Directory.CreateTempSubdirectory("coi-tls-").FullName;
    private Process? _server;

    public int Port { get; private set; }

    public string CaFile => Path.Combine(_dir, "ca.pem");

    public string Connection => $"127.0.0.1:{Port},ssl=true,abortConnect=false,connectTimeout=2000,syncTimeout=2000,asyncTimeout=2000";

    public async Task InitializeAsync()
    {
        Run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=coi-test-ca");
        Run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost");
        await File.WriteAllTextAsync(Path.Combine(_dir, "san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
        Run("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.ext");
        Port = RedisServer.FreePort();
        var start = new ProcessStartInfo(File.Exists("/usr/bin/redis-server") ? "/usr/bin/redis-server" : "redis-server")
        {
            ArgumentList =
            {
                "--port", "0", "--tls-port", Port.ToString(), "--bind", "127.0.0.1",
                "--tls-cert-file", Path.Combine(_dir, "server.pem"), "--tls-key-file", Path.Combine(_dir, "server.key"),
                "--tls-ca-cert-file", CaFile, "--tls-auth-clients", "no",
                "--requirepass", Password, "--save", "", "--appendonly", "no", "--dir", _dir,
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _server = Process.Start(start)!;
        _server.OutputDataReceived += (_, _) => { };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();
        await TestApp.Eventually(() => Task.FromResult(Cli("ping").Contains("PONG", StringComparison.Ordinal)), "TLS redis-server up");
    }

    /// <summary>Runs one redis-cli command as the default user (ACL SETUSER, CLIENT KILL, ...).</summary>
    public string Cli(params string[] command) =>
        Run("redis-cli", ["--tls", "--cacert", CaFile, "-p", Port.ToString(), "-a", Password, "--no-auth-warning", .. command], check: false);

    public Task DisposeAsync()
    {
        if (_server is { HasExited: false })
        {
            _server.Kill(entireProcessTree: true);
            _server.WaitForExit(5000);
        }
        _server?.Dispose();
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    private string Run(string file, params string[] arguments) => Run(file, arguments, check: true);

    private string Run(string file, string[] arguments, bool check)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = _dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit(30_000);
        if (check && process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} failed: {error.Result}");
        }
        return output.Result;
    }
}
