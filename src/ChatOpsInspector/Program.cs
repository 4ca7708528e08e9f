using ChatOpsInspector.Alerts;
using ChatOpsInspector.Aws;
using ChatOpsInspector.Findings;
using ChatOpsInspector.Ingest;
using ChatOpsInspector.Operations;
using ChatOpsInspector.Sla;
using ChatOpsInspector.Slack;
using ChatOpsInspector.State;
using ChatOpsInspector.Teams;
using ChatOpsInspector.Workflow;

var builder = WebApplication.CreateBuilder(args);

builder.AddOperations();
builder.AddState();
builder.AddFindings();
builder.AddIngest();
builder.AddAlerts();
builder.AddWorkflow();
builder.AddAws();
builder.AddSecurityHub();
builder.AddSla();
builder.AddSlack();
builder.AddTeams();

var app = builder.Build();

app.UseOperations();
app.MapOperations();
app.MapIngest();
app.MapAuditExport();
app.MapSlaReports();
app.MapSlack();
app.MapTeams();

app.Run();

/// <summary>Entry point type, visible to integration tests.</summary>
public partial class Program;
