using DePIN.Bench;

return await BenchCommand.Run(args);
