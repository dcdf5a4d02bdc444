using System.Collections.Concurrent;

namespace DePIN.Abstractions;

/// <summary>
/// Grain references without the per-call reflection: Orleans' <c>GetGrain&lt;T&gt;(key)</c> resolves the interface's
/// grain type from its attributes on every call (nothing is cached), which showed as several per cent of a placement
/// on the job path. This resolves each interface once per process and then builds references from the grain id.
/// </summary>
public static class GrainRefs
{
    private static readonly ConcurrentDictionary<Type, (GrainType Grain, GrainInterfaceType Interface)> Types = new();

    /// <summary>The same reference <c>grains.GetGrain&lt;T&gt;(key)</c> returns.</summary>
    public static T Ref<T>(this IGrainFactory grains, string key) where T : IGrainWithStringKey
    {
        var (grain, face) = Resolve<T>(grains);
        return (T)grains.GetGrain(GrainId.Create(grain, key), face);
    }

    /// <summary>The same reference <c>grains.GetGrain&lt;T&gt;(key)</c> returns.</summary>
    public static T Ref<T>(this IGrainFactory grains, long key) where T : IGrainWithIntegerKey
    {
        var (grain, face) = Resolve<T>(grains);
        return (T)grains.GetGrain(GrainId.Create(grain, GrainIdKeyExtensions.CreateIntegerKey(key)), face);
    }

    private static (GrainType Grain, GrainInterfaceType Interface) Resolve<T>(IGrainFactory grains) where T : IAddressable =>
        Types.GetOrAdd(typeof(T), static (_, factory) => Sample<T>(factory), grains);

    private static (GrainType, GrainInterfaceType) Sample<T>(IGrainFactory grains) where T : IAddressable
    {
        var sample = typeof(IGrainWithIntegerKey).IsAssignableFrom(typeof(T))
            ? (GrainReference)(object)grains.GetGrain(typeof(T), 0L)
            : (GrainReference)(object)grains.GetGrain(typeof(T), "sample");
        return (sample.GrainId.Type, sample.InterfaceType);
    }
}
