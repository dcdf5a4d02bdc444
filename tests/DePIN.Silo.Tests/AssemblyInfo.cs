using DePIN.Testing;

[assembly: AssemblyFixture(typeof(PostgresServer))]
