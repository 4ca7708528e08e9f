using System.Net;
using ChatOpsInspector.State;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace ChatOpsInspector.Tests.State;

/// <summary>
/// A wrong Redis password makes the client fail on every reconnect attempt, several times a second:
/// the log gets one line a minute per endpoint and kind, saying how many were held back, and no secret.
/// </summary>
public sealed class ConnectionLogTests
{
    [Fact]
    public void AuthenticationFailuresAreLoggedOnceAMinuteWithTheCountHeldBackAndNoSecret()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 9, 0, 0, TimeSpan.Zero));
        var lines = new List<(LogLevel Level, string Text)>();
        var log = new StateExtensions.ConnectionLog(new ListLogger<StateExtensions.ConnectionLog>(lines), time);
        var endpoint = new IPEndPoint(IPAddress.Loopback, 6380);
        ConnectionFailedEventArgs Failure(ConnectionFailureType type) =>
            new(this, endpoint, ConnectionType.Interactive, type, new InvalidOperationException("WRONGPASS invalid username-password pair"), "physical");

        for (var i = 0; i < 50; i++)
        {
            log.Failed(Failure(ConnectionFailureType.AuthenticationFailure));
            time.Advance(TimeSpan.FromMilliseconds(500));
        }
        // 25 s of failures: one line. A different kind on the same endpoint has its own line.
        var auth = Assert.Single(lines);
        Assert.Equal(LogLevel.Error, auth.Level);
        Assert.Contains("127.0.0.1:6380", auth.Text, StringComparison.Ordinal);
        log.Failed(Failure(ConnectionFailureType.SocketFailure));
        Assert.Equal(2, lines.Count);

        time.Advance(TimeSpan.FromSeconds(40));
        log.Failed(Failure(ConnectionFailureType.AuthenticationFailure));
        Assert.Equal(3, lines.Count);
        Assert.Contains("49 similar failures", lines[2].Text, StringComparison.Ordinal);
        // Endpoint and kind only: nothing the client or server said, nothing from the configuration.
        Assert.DoesNotContain(lines, l => l.Text.Contains("WRONGPASS", StringComparison.Ordinal));
    }

    [Fact]
    public void WithIamAuthenticationARefusedTokenIsLoggedAsSuchAtTheSameRateAndTheTokenNever()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 9, 0, 0, TimeSpan.Zero));
        var lines = new List<(LogLevel Level, string Text)>();
        var log = new StateExtensions.ConnectionLog(new ListLogger<StateExtensions.ConnectionLog>(lines), time, iamAuth: true);
        var endpoint = new IPEndPoint(IPAddress.Loopback, 6380);
        const string token = "my-cache/?Action=connect&User=iam-user&X-Amz-Signature=0123abcd";

        for (var i = 0; i < 20; i++)
        {
            log.Failed(new(this, endpoint, ConnectionType.Interactive, ConnectionFailureType.AuthenticationFailure, new InvalidOperationException("WRONGPASS " + token), "physical"));
            time.Advance(TimeSpan.FromSeconds(1));
        }

        var line = Assert.Single(lines);
        Assert.Equal(LogLevel.Error, line.Level);
        Assert.Contains("IAM authentication token", line.Text, StringComparison.Ordinal);
        Assert.Contains("State:IamAuth", line.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("X-Amz-Signature", line.Text, StringComparison.Ordinal);
    }

    private sealed class ListLogger<T>(List<(LogLevel, string)> lines) : ILogger<T>
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Add((logLevel, formatter(state, exception)));
    }
}
