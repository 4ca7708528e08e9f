using ChatOpsInspector.Teams;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Tests.Teams;

public class ServiceUrlPolicyTests
{
    private static ServiceUrlPolicy Policy(params string[] patterns) =>
        new(Options.Create(new TeamsOptions { AllowedServiceUrls = [.. patterns] }));

    [Theory]
    [InlineData("https://smba.trafficmanager.net/amer/50612dbb-0237-4969-b378-8d42590f9c00/", true)]
    [InlineData("https://smba.trafficmanager.net/teams/", true)]
    [InlineData("https://europe.botframework.com/", true)]
    [InlineData("https://smba.infra.gcc.teams.microsoft.com/gcc/", true)]
    [InlineData("http://smba.trafficmanager.net/amer/", false)]
    [InlineData("https://smba.trafficmanager.net:8443/amer/", false)]
    [InlineData("https://smba.trafficmanager.net.evil.example/", false)]
    [InlineData("https://botframework.com.evil.example/", false)]
    [InlineData("https://evil.example/?smba.trafficmanager.net", false)]
    [InlineData("https://user@smba.trafficmanager.net/", false)]
    [InlineData("not a url", false)]
    public void DefaultsAllowOnlyMicrosoftConnectorsOverHttps(string url, bool allowed) =>
        Assert.Equal(allowed, Policy().IsAllowed(url));

    [Fact]
    public void ConfiguredOriginAllowsExactlyThatSchemeHostAndPort()
    {
        var policy = Policy("http://127.0.0.1:5005");

        Assert.True(policy.IsAllowed("http://127.0.0.1:5005/amer/"));
        Assert.False(policy.IsAllowed("http://127.0.0.1:5006/"));
        Assert.False(policy.IsAllowed("https://smba.trafficmanager.net/amer/"));
    }

    [Theory]
    [InlineData("smba.trafficmanager.net", true)]
    [InlineData("*.botframework.com", true)]
    [InlineData("http://127.0.0.1:5005", true)]
    [InlineData("https://host/path", false)]
    [InlineData("*.", false)]
    [InlineData("ftp://host", false)]
    public void PatternsAreValidatedAtStartUp(string pattern, bool valid) =>
        Assert.Equal(valid, ServiceUrlPolicy.IsValidPattern(pattern));
}
