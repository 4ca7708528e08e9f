using System.Reflection;
using Amazon.Runtime;
using ChatOpsInspector.Aws;
using ChatOpsInspector.Tests.Workflow;
using Microsoft.Extensions.DependencyInjection;

namespace ChatOpsInspector.Tests.Aws;

/// <summary>These tests set process environment variables the AWS SDK reads, so nothing runs beside them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessEnvironmentCollection
{
    public const string Name = "Process environment";
}

/// <summary>
/// The SDK default chain as a Kubernetes pod with IRSA (or EKS Pod Identity's web identity mode)
/// sees it: no keys, a projected token file, a role ARN and a region in the environment.
/// </summary>
[Collection(ProcessEnvironmentCollection.Name)]
public sealed class CredentialChainTests : IAsyncLifetime
{
    private static readonly string[] Variables =
    [
        "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME", "AWS_ENDPOINT_URL_STS", "AWS_REGION", "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
    ];

    private readonly Dictionary<string, string?> saved = Variables.ToDictionary(v => v, Environment.GetEnvironmentVariable);
    private readonly string directory = Directory.CreateTempSubdirectory("coi-chain-").FullName;
    private FakeAws aws = null!;

    public async Task InitializeAsync()
    {
        aws = await FakeAws.StartAsync();
        foreach (var name in Variables)
        {
            Environment.SetEnvironmentVariable(name, null);
        }

        // No shared files from the machine running the tests.
        Environment.SetEnvironmentVariable("AWS_CONFIG_FILE", Path.Combine(directory, "config"));
        Environment.SetEnvironmentVariable("AWS_SHARED_CREDENTIALS_FILE", Path.Combine(directory, "credentials"));
        ResetSdkRegionCache();
    }

    public async Task DisposeAsync()
    {
        foreach (var (name, value) in saved)
        {
            Environment.SetEnvironmentVariable(name, value);
        }

        ResetSdkRegionCache();
        await aws.DisposeAsync();
        Directory.Delete(directory, recursive: true);
    }

    /// <summary>
    /// Production condition: IRSA. AWSSDK.Core resolves web identity only when AWSSDK.SecurityToken is
    /// present; the STS call goes to the fake through AWS_ENDPOINT_URL_STS, and the SSM call that
    /// follows must be signed with the key STS issued (the fake recomputes the signature from that
    /// key's secret). The region comes from AWS_REGION, Aws:Region being empty.
    /// </summary>
    [Fact]
    public async Task WebIdentityFromTheEnvironmentSignsSsmCallsWithTheKeyStsIssued()
    {
        var tokenFile = Path.Combine(directory, "token");
        await File.WriteAllTextAsync(tokenFile, "eyJhbGciOiJSUzI1NiJ9.projected-service-account-token.sig");
        aws.WebIdentityToken = "eyJhbGciOiJSUzI1NiJ9.projected-service-account-token.sig";
        aws.ManagedInstances["i-0000000000000000a"] = "Online";
        Environment.SetEnvironmentVariable("AWS_WEB_IDENTITY_TOKEN_FILE", tokenFile);
        Environment.SetEnvironmentVariable("AWS_ROLE_ARN", "arn:aws:iam::111122223333:role/chatopsinspector-irsa");
        Environment.SetEnvironmentVariable("AWS_ENDPOINT_URL_STS", aws.Server.BaseUrl);
        Environment.SetEnvironmentVariable("AWS_REGION", "eu-west-1");

        using var host = AwsTestHost.Build(new Dictionary<string, string?> { ["Aws:Ssm:ServiceUrl"] = aws.Server.BaseUrl }, defaultChain: true);
        await host.StartAsync();
        var managed = await host.Services.GetRequiredService<IRunbookClient>().DescribeManagedInstancesAsync(["i-0000000000000000a"]);

        Assert.Equal(["i-0000000000000000a"], managed.Online);
        var sts = Assert.Single(aws.StsCalls);
        Assert.Equal("AssumeRoleWithWebIdentity", sts.Action);
        Assert.Equal("arn:aws:iam::111122223333:role/chatopsinspector-irsa", sts.Form["RoleArn"]);
        var call = Assert.Single(aws.Signed);
        Assert.Equal("AmazonSSM.DescribeInstanceInformation", call.Operation);
        Assert.StartsWith("ASIAFAKESESSION", call.AccessKey, StringComparison.Ordinal);
        Assert.Equal("eu-west-1", call.Region);
        Assert.Equal("ssm", call.Service);
        Assert.Empty(aws.Rejected);
        await host.StopAsync();
    }

    /// <summary>
    /// Production condition: no Aws:Region and nothing in the environment or profile. The bot does
    /// not guess us-east-1: the AWS action is refused with a message naming the setting, and nothing
    /// is sent.
    /// </summary>
    [Fact]
    public async Task WithoutAnyRegionAwsActionsRefuseNamingTheSetting()
    {
        using var host = AwsTestHost.Build(new Dictionary<string, string?> { ["Aws:Ssm:ServiceUrl"] = aws.Server.BaseUrl });
        await host.StartAsync();

        var error = await Assert.ThrowsAsync<AwsRegionUnavailableException>(() =>
            host.Services.GetRequiredService<IRunbookClient>().DescribeManagedInstancesAsync(["i-0000000000000000a"]));

        Assert.Contains("Aws:Region", error.Message, StringComparison.Ordinal);
        Assert.Empty(aws.Server.Requests);
        await host.StopAsync();
    }

    /// <summary>The SDK remembers the region it resolved for the life of the process; these tests change the environment under it.</summary>
    private static void ResetSdkRegionCache()
    {
        var factory = typeof(FallbackRegionFactory);
        if (factory.GetMethod("Reset", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static, Type.EmptyTypes) is { } reset)
        {
            reset.Invoke(null, null);
            return;
        }

        factory.GetField("cachedRegion", BindingFlags.NonPublic | BindingFlags.Static)?.SetValue(null, null);
    }
}
