using ChatOpsInspector.Aws;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Tests.Aws;

public class AwsConfigurationTests
{
    [Fact]
    public async Task EmptyConfigurationStartsWithDefaults()
    {
        using var host = AwsTestHost.Build(new Dictionary<string, string?>());
        await host.StartAsync();

        var aws = host.Services.GetRequiredService<IOptions<AwsOptions>>().Value;
        var remediation = host.Services.GetRequiredService<IOptions<RemediationOptions>>().Value;
        Assert.Equal("", aws.Region);
        Assert.Equal(new Uri("https://inspector2.eu-west-1.amazonaws.com/"), aws.Inspector2EndpointFor("eu-west-1"));
        Assert.Equal(TimeSpan.FromMinutes(180), remediation.StallTimeout);
        Assert.Equal("AWS-RunPatchBaseline", remediation.PatchDocument);
        Assert.Equal("RebootIfNeeded", remediation.RebootOption);
        Assert.Equal(TimeSpan.FromMinutes(60), remediation.ApprovalTtl);
        Assert.Equal("10%", remediation.MaxConcurrency);
        Assert.Equal("10%", remediation.MaxErrors);
        Assert.False(remediation.IsolationEnabled);
        Assert.NotNull(host.Services.GetRequiredService<IInspector2Client>());
        Assert.NotNull(host.Services.GetRequiredService<IRunbookClient>());
        await host.StopAsync();
    }

    [Theory]
    [InlineData("Aws:Region", "Frankfurt")]
    [InlineData("Aws:Inspector2:ServiceUrl", "inspector2.local")]
    [InlineData("Aws:Ssm:ServiceUrl", "ftp://127.0.0.1/")]
    [InlineData("Remediation:RebootOption", "Always")]
    [InlineData("Remediation:PatchDocument", "bad name with spaces")]
    [InlineData("Remediation:ApprovalTtlMinutes", "0")]
    [InlineData("Remediation:MaxConcurrency", "0%")]
    [InlineData("Remediation:MaxErrors", "ten")]
    [InlineData("Remediation:StallTimeoutMinutes", "1")]
    [InlineData("Aws:MemberRoleName", "role with spaces")]
    [InlineData("Aws:MemberRoleExternalId", "x")]
    [InlineData("Aws:Sts:ServiceUrl", "sts.local")]
    public async Task BadSettingsFailAtStartUpNamingTheKey(string key, string value)
    {
        using var host = AwsTestHost.Build(new Dictionary<string, string?> { [key] = value });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(key, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DefaultCredentialChainIsNotConsultedUntilTheFirstCall()
    {
        var consulted = 0;
        using var provider = new AwsCredentialsProvider(_ =>
        {
            Interlocked.Increment(ref consulted);
            return Task.FromResult<Amazon.Runtime.AWSCredentials>(new Amazon.Runtime.BasicAWSCredentials("AKIDLAZY", "secret"));
        }, NullLogger<AwsCredentialsProvider>.Instance);
        using var host = AwsTestHost.Build(new Dictionary<string, string?>(), services: s => s.AddSingleton(provider));
        await host.StartAsync();
        _ = host.Services.GetRequiredService<IInspector2Client>();
        _ = host.Services.GetRequiredService<IRunbookClient>();

        Assert.Equal(0, consulted);
        var first = await provider.GetSigningCredentialsAsync(CancellationToken.None);
        var second = await provider.GetSigningCredentialsAsync(CancellationToken.None);

        Assert.Equal("AKIDLAZY", first.AccessKey);
        Assert.Equal(first.AccessKey, second.AccessKey);
        Assert.Equal(1, consulted);
        await host.StopAsync();
    }

    [Fact]
    public async Task DefaultCredentialChainReadsTheStandardEnvironmentVariables()
    {
        // The only test that touches the process environment: nothing else resolves the default chain.
        var saved = new[] { "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN" }
            .ToDictionary(name => name, Environment.GetEnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", "AKIDFROMENVIRONMENT1");
            Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", "secret-from-environment");
            Environment.SetEnvironmentVariable("AWS_SESSION_TOKEN", null);
            using var provider = AwsCredentialsProvider.DefaultChain(NullLogger<AwsCredentialsProvider>.Instance);

            var credentials = await provider.GetSigningCredentialsAsync(CancellationToken.None);

            Assert.Equal("AKIDFROMENVIRONMENT1", credentials.AccessKey);
            Assert.Equal("secret-from-environment", credentials.SecretKey);
        }
        finally
        {
            foreach (var (name, value) in saved)
            {
                Environment.SetEnvironmentVariable(name, value);
            }
        }
    }

    [Fact]
    public async Task CredentialFailureIsNotCachedSoALaterCallCanSucceed()
    {
        var attempts = 0;
        using var provider = new AwsCredentialsProvider(_ => ++attempts == 1
            ? throw new Amazon.Runtime.AmazonClientException("Failed to resolve AWS credentials.")
            : Task.FromResult<Amazon.Runtime.AWSCredentials>(new Amazon.Runtime.BasicAWSCredentials("AKIDSECOND", "secret")),
            NullLogger<AwsCredentialsProvider>.Instance);

        await Assert.ThrowsAsync<AwsCredentialsUnavailableException>(() => provider.GetSigningCredentialsAsync(CancellationToken.None));
        var credentials = await provider.GetSigningCredentialsAsync(CancellationToken.None);

        Assert.Equal("AKIDSECOND", credentials.AccessKey);
    }

    [Theory]
    [InlineData("ThrottlingException", 400, "Throttling")]
    [InlineData("SomethingElse", 429, "Throttling")]
    [InlineData("AccessDeniedException", 403, "AccessDenied")]
    [InlineData("UnrecognizedClientException", 400, "Authentication")]
    [InlineData("ValidationException", 400, "Validation")]
    [InlineData("InvalidInstanceId", 400, "Validation")]
    [InlineData("ResourceNotFoundException", 404, "ResourceNotFound")]
    [InlineData("AutomationDefinitionNotFoundException", 400, "ResourceNotFound")]
    [InlineData("ServiceQuotaExceededException", 402, "QuotaExceeded")]
    [InlineData("InternalServerException", 500, "ServerError")]
    [InlineData("Mystery", 503, "ServerError")]
    public void ErrorCodesAreClassifiedIntoKinds(string code, int status, string kind) =>
        Assert.Equal(Enum.Parse<AwsErrorKind>(kind), AwsServiceException.Classify(code, (System.Net.HttpStatusCode)status));

    [Theory]
    [InlineData("ValidationException:http://internal.amazon.com/coral/com.amazon.coral.validate/", "ValidationException")]
    [InlineData("com.amazonaws.inspector2#ThrottlingException", "ThrottlingException")]
    [InlineData("aws.protocoltests.restjson#FooError:http://internal.amazon.com/coral/com.amazon.coral.validate/", "FooError")]
    [InlineData(" AccessDeniedException ", "AccessDeniedException")]
    public void DecoratedErrorTypesAreReducedToTheBareCode(string raw, string expected) =>
        Assert.Equal(expected, Inspector2Client.NormalizeErrorCode(raw));
}
