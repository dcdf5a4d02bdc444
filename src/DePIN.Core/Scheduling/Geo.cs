namespace DePIN.Core.Scheduling;

/// <summary>Distances on the WGS 84 sphere and the round-trip time they imply over fibre.</summary>
public static class Geo
{
    private const double EarthRadiusKm = 6371.0088;

    // Light in fibre covers about 200 km per millisecond; real routes run about 1.5 times the great circle.
    private const double FibreKmPerMs = 200;
    private const double RouteInflation = 1.5;

    /// <summary>Great-circle distance (haversine) in kilometres.</summary>
    public static double DistanceKm(double latitude1, double longitude1, double latitude2, double longitude2)
    {
        static double Radians(double degrees) => degrees * Math.PI / 180;
        var dLat = Radians(latitude2 - latitude1);
        var dLon = Radians(longitude2 - longitude1);
        var a = Math.Sin(dLat / 2) * Math.Sin(dLat / 2) +
                Math.Cos(Radians(latitude1)) * Math.Cos(Radians(latitude2)) * Math.Sin(dLon / 2) * Math.Sin(dLon / 2);
        return 2 * EarthRadiusKm * Math.Asin(Math.Min(1, Math.Sqrt(a)));
    }

    /// <summary>The round trip a packet needs at best over <paramref name="distanceKm"/> of routed fibre.</summary>
    public static double RoundTripMs(double distanceKm) => 2 * distanceKm * RouteInflation / FibreKmPerMs;
}
