using System.Text.RegularExpressions;
using k8s;
using k8s.Models;

namespace DePIN.Silo.Tests;

/// <summary>
/// The Helm chart <c>k8s/depin</c>, rendered with its defaults and with every option on: each manifest meets the
/// Kubernetes (or Prometheus Operator) JSON schema of its kind and names no field its kind lacks, the silos cluster
/// through PostgreSQL with the Kubernetes hosting they need (downward API, RBAC), probes, the disruption budget and a
/// grace period longer than the silo's shutdown hold, values that cannot work are refused, and every value is documented.
/// </summary>
public sealed partial class HelmChartTests(Chart chart) : IClassFixture<Chart>
{
    private const string Defaults = """
        postgres:
          connectionString: "Host=postgres;Database=depin;Username=depin"
        """;

    private const string Everything = """
        replicaCount: 5
        postgres:
          existingSecret: depin-db
          existingSecretKey: url
        orleans:
          tlsSecret: depin-cluster-tls
          deleteDefunctPods: true
        nodes:
          TelemetryInterval: "00:00:10"
        extraEnv:
          - name: Logging__LogLevel__Default
            value: Warning
        imagePullSecrets:
          - name: registry
        service:
          type: LoadBalancer
        pdb:
          maxUnavailable: 2
        metrics:
          serviceMonitor: { enabled: true, labels: { release: prometheus } }
          prometheusRule: { enabled: true, labels: { release: prometheus } }
          grafanaDashboard: { enabled: true }
        fleet:
          enabled: true
          nodes: 50
        """;

    private const string Single = """
        replicaCount: 1
        postgres:
          connectionString: "Host=postgres;Database=depin"
        pdb:
          create: false
        """;

    public static TheoryData<string, string> ValueSets => new()
    {
        { "defaults", Defaults },
        { "everything", Everything },
        { "single", Single },
    };

    private static readonly Dictionary<string, Type> CustomResources = new()
    {
        ["monitoring.coreos.com/v1/ServiceMonitor"] = typeof(Dictionary<object, object>),
        ["monitoring.coreos.com/v1/PrometheusRule"] = typeof(Dictionary<object, object>),
    };

    [Theory]
    [MemberData(nameof(ValueSets))]
    public async Task Every_manifest_meets_the_schema_of_its_kind_and_names_no_unknown_field(string name, string values)
    {
        var manifests = await Rendered(values);

        var validations = await Chart.Validate(manifests);
        Assert.NotEmpty(validations);
        Assert.All(validations, v => Assert.True(v.Errors.Length == 0, $"{name}: {v.Source} {v.Kind} {v.Name}: {string.Join("; ", v.Errors)}"));

        // The client's models are generated from the same specification; strict reading refuses a field a kind lacks.
        var objects = KubernetesYaml.LoadAllFromString(manifests, CustomResources, strict: true);
        Assert.Equal(validations.Count, objects.Count);
        var kinds = validations.Select(v => v.Kind).ToHashSet();
        Assert.Superset(new HashSet<string?> { "Deployment", "Service", "ServiceAccount", "Role", "RoleBinding" }, kinds);
        Assert.Equal(name != "single", kinds.Contains("PodDisruptionBudget"));
    }

    [Fact]
    public async Task Silos_cluster_through_PostgreSQL_with_Kubernetes_hosting_probes_a_budget_and_a_grace_period_past_their_shutdown()
    {
        var objects = KubernetesYaml.LoadAllFromString(await Rendered(Defaults), CustomResources, strict: true);
        var silo = objects.OfType<V1Deployment>().Single();
        var pod = silo.Spec.Template;
        var container = pod.Spec.Containers.Single();
        var env = container.Env.ToDictionary(e => e.Name);

        // Orleans' UseKubernetesHosting reads its ids from the pod's labels and its address from the downward API.
        Assert.Equal("metadata.labels['orleans/serviceId']", env["ORLEANS_SERVICE_ID"].ValueFrom.FieldRef.FieldPath);
        Assert.Equal("metadata.labels['orleans/clusterId']", env["ORLEANS_CLUSTER_ID"].ValueFrom.FieldRef.FieldPath);
        Assert.Equal("depin", pod.Metadata.Labels["orleans/serviceId"]);
        Assert.Equal("status.podIP", env["POD_IP"].ValueFrom.FieldRef.FieldPath);
        Assert.Equal("metadata.namespace", env["POD_NAMESPACE"].ValueFrom.FieldRef.FieldPath);

        // Membership, grain state and reminders in PostgreSQL, from the chart's Secret.
        var secretRef = env["ConnectionStrings__depin"].ValueFrom.SecretKeyRef;
        var secret = objects.OfType<V1Secret>().Single(s => s.Metadata.Name == secretRef.Name);
        Assert.Equal("Host=postgres;Database=depin;Username=depin", secret.StringData[secretRef.Key]);

        // The pods Orleans' hosting watches and patches, granted to the silos' service account in their namespace.
        var role = objects.OfType<V1Role>().Single();
        var rule = Assert.Single(role.Rules);
        Assert.Equal(["pods"], rule.Resources);
        Assert.Equal(["get", "list", "watch", "patch"], rule.Verbs);
        var binding = objects.OfType<V1RoleBinding>().Single();
        Assert.Equal(role.Metadata.Name, binding.RoleRef.Name);
        var subject = Assert.Single(binding.Subjects);
        Assert.Equal((pod.Spec.ServiceAccountName, "depin"), (subject.Name, subject.NamespaceProperty));
        Assert.Contains(objects.OfType<V1ServiceAccount>(), a => a.Metadata.Name == pod.Spec.ServiceAccountName);

        // Probes: ready when /health answers, restarted when /alive does not, with time to start.
        Assert.Equal("/health", container.ReadinessProbe.HttpGet.Path);
        Assert.Equal("/alive", container.LivenessProbe.HttpGet.Path);
        Assert.Equal("/health", container.StartupProbe.HttpGet.Path);
        Assert.Contains(container.Ports, p => p.Name == container.ReadinessProbe.HttpGet.Port.Value);

        // Kubernetes waits longer than the silo's own shutdown timeout before it kills it.
        var shutdown = TimeSpan.Parse(env["Silo__ShutdownTimeout"].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(pod.Spec.TerminationGracePeriodSeconds > shutdown.TotalSeconds, $"grace {pod.Spec.TerminationGracePeriodSeconds} s, shutdown {shutdown}");
        Assert.Equal(0, int.Parse(silo.Spec.Strategy.RollingUpdate.MaxUnavailable.Value, System.Globalization.CultureInfo.InvariantCulture));

        // The budget and the Service select exactly the silo pods.
        var budget = objects.OfType<V1PodDisruptionBudget>().Single();
        Assert.Equal("1", budget.Spec.MaxUnavailable.Value);
        Assert.All(budget.Spec.Selector.MatchLabels, l => Assert.Equal(l.Value, pod.Metadata.Labels[l.Key]));
        Assert.Equal(silo.Spec.Selector.MatchLabels, budget.Spec.Selector.MatchLabels);
        var service = objects.OfType<V1Service>().Single();
        Assert.Equal(silo.Spec.Selector.MatchLabels, service.Spec.Selector);
        Assert.Contains(container.Ports, p => p.Name == service.Spec.Ports.Single().TargetPort.Value);
    }

    [Fact]
    public async Task Every_option_turns_on_what_it_names()
    {
        var objects = KubernetesYaml.LoadAllFromString(await Rendered(Everything), CustomResources, strict: true);
        var silo = objects.OfType<V1Deployment>().Single(d => d.Metadata.Name == "depin");
        var container = silo.Spec.Template.Spec.Containers.Single();
        var env = container.Env.ToDictionary(e => e.Name);

        Assert.Equal(5, silo.Spec.Replicas);
        Assert.Equal(("depin-db", "url"), (env["ConnectionStrings__depin"].ValueFrom.SecretKeyRef.Name, env["ConnectionStrings__depin"].ValueFrom.SecretKeyRef.Key));
        Assert.Empty(objects.OfType<V1Secret>());
        Assert.Equal("depin-cluster-tls", silo.Spec.Template.Spec.Volumes.Single().Secret.SecretName);
        Assert.Equal("/etc/depin/cluster-tls/ca.crt", env["Orleans__Tls__CaPath"].Value);
        Assert.Contains("delete", objects.OfType<V1Role>().Single().Rules.Single().Verbs);
        Assert.Equal("00:00:10", env["Nodes__TelemetryInterval"].Value);
        Assert.Equal("Warning", env["Logging__LogLevel__Default"].Value);
        Assert.Equal("registry", silo.Spec.Template.Spec.ImagePullSecrets.Single().Name);
        Assert.Equal("LoadBalancer", objects.OfType<V1Service>().Single().Spec.Type);
        Assert.Equal("2", objects.OfType<V1PodDisruptionBudget>().Single().Spec.MaxUnavailable.Value);
        Assert.Contains(objects.OfType<V1Deployment>(), d => d.Metadata.Name == "depin-fleet");

        // The board and the rules are the repository's files, byte for byte.
        var board = objects.OfType<V1ConfigMap>().Single(c => c.Metadata.Name == "depin-dashboard");
        Assert.Equal("1", board.Metadata.Labels["grafana_dashboard"]);
        Assert.Equal((await File.ReadAllTextAsync(Path.Combine(Chart.Directory, "dashboards", "depin.json"))).TrimEnd(), board.Data["depin.json"].TrimEnd());
        var rules = objects.OfType<Dictionary<object, object>>().Single(o => (string)o["kind"] == "PrometheusRule");
        var groups = (List<object>)((Dictionary<object, object>)rules["spec"])["groups"];
        Assert.Equal(["depin-silos", "depin-fleet", "depin-work"], groups.Select(g => (string)((Dictionary<object, object>)g)["name"]));
        var monitor = objects.OfType<Dictionary<object, object>>().Single(o => (string)o["kind"] == "ServiceMonitor");
        Assert.Contains("prometheus", ((Dictionary<object, object>)((Dictionary<object, object>)monitor["metadata"])["labels"]).Values);
    }

    [Theory]
    [InlineData("replicaCount: 2", "postgres.connectionString or postgres.existingSecret is required")]
    [InlineData("postgres: {connectionString: x}\nreplicaCount: 0", "replicaCount must be at least 1")]
    [InlineData("postgres: {connectionString: x}\norleans: {clusterId: Prod_1}", "orleans.clusterId must be lower-case")]
    [InlineData("postgres: {connectionString: x}\norleans: {gatewayPort: 11111}", "orleans.siloPort and orleans.gatewayPort must differ")]
    [InlineData("postgres: {connectionString: x}\nreplicaCount: 3\npdb: {maxUnavailable: 3}", "pdb.maxUnavailable must be below replicaCount")]
    [InlineData("postgres: {connectionString: x}\nterminationGracePeriodSeconds: 150", "terminationGracePeriodSeconds must exceed shutdownTimeoutSeconds")]
    public async Task Values_that_cannot_work_are_refused_with_the_reason(string values, string reason)
    {
        var (exitCode, manifests, error) = await chart.Render(values);

        Assert.Equal(1, exitCode);
        Assert.Contains(reason, error);
        Assert.Empty(manifests);
    }

    [Fact]
    public async Task The_validator_refuses_what_breaks_a_schema()
    {
        const string broken = """
            ---
            # Source: broken/deployment.yaml
            apiVersion: apps/v1
            kind: Deployment
            metadata: { name: broken }
            spec:
              replicas: three
              selector: { matchLabels: { app: x } }
              template: { spec: { containers: [ { image: silo } ] } }
            ---
            # Source: broken/unknown.yaml
            apiVersion: v1
            kind: Widget
            metadata: { name: w }
            """;

        var validations = await Chart.Validate(broken);

        Assert.Equal(2, validations.Count);
        Assert.Contains(validations[0].Errors, e => e.Contains("replicas must be integer", StringComparison.Ordinal));
        Assert.Contains(validations[0].Errors, e => e.Contains("must have required property name", StringComparison.Ordinal));
        Assert.Contains("no schema", validations[1].Errors.Single(), StringComparison.Ordinal);
        Assert.ThrowsAny<Exception>(() => KubernetesYaml.LoadAllFromString(
            "apiVersion: v1\nkind: Service\nmetadata: { name: s }\nspec: { portz: [] }\n", null, strict: true));
    }

    [Fact]
    public async Task Every_value_is_documented_and_every_documented_value_exists()
    {
        var lines = await File.ReadAllLinesAsync(Path.Combine(Chart.Directory, "values.yaml"));
        var documented = lines.Select(l => Param().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value).ToHashSet();
        var values = Leaves(KubernetesYaml.Deserialize<Dictionary<object, object>>(string.Join('\n', lines)), "").ToArray();

        var undocumented = values.Where(v => !documented.Any(d => v == d || v.StartsWith(d + ".", StringComparison.Ordinal))).ToArray();
        var unknown = documented.Where(d => !values.Any(v => v == d || v.StartsWith(d + ".", StringComparison.Ordinal))).ToArray();
        Assert.True(undocumented.Length == 0, "no @param for: " + string.Join(", ", undocumented));
        Assert.True(unknown.Length == 0, "@param for no value: " + string.Join(", ", unknown));
    }

    private async Task<string> Rendered(string values)
    {
        var (exitCode, manifests, error) = await chart.Render(values);
        Assert.True(exitCode == 0, error);
        return manifests;
    }

    /// <summary>The dotted paths of the values: a map's keys, down to values that are not maps (an empty map is a value).</summary>
    private static IEnumerable<string> Leaves(Dictionary<object, object> map, string prefix) =>
        map.SelectMany(entry => entry.Value is Dictionary<object, object> { Count: > 0 } inner
            ? Leaves(inner, $"{prefix}{entry.Key}.")
            : [$"{prefix}{entry.Key}"]);

    [GeneratedRegex(@"^## @param (\S+)")]
    private static partial Regex Param();
}
