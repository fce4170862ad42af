# chord-failure.gp — success and latency of lookups around the mass crash of
# scenarios/chord-failure.yaml (half the ring crashes at 20 min).
#   build/p2plab run scenarios/chord-failure.yaml -o results/chord-failure
#   gnuplot plots/chord-failure.gp        # writes docs/chord-failure.png
set datafile separator ","
set terminal pngcairo size 900,480 font "sans,11"
set output "docs/chord-failure.png"
data = "results/chord-failure/timeseries.csv"
set title "Chord, 4,000 nodes: half of them crash at 20 min (3 replicas)"
set xlabel "simulated time (min), lookups grouped by when they were issued"
set ylabel "lookups that found the true owner (%)"
set y2label "mean lookup latency (s)"
set yrange [99.5:100.05]
set y2range [0:*]
set ytics nomirror
set y2tics
set xrange [5:40]
set key bottom left
set grid ytics
set arrow from 20, graph 0 to 20, graph 1 nohead dashtype 2 lc rgb "gray40"
set label "50% crash" at 20.3, graph 0.5 textcolor rgb "gray30"
# columns: protocol,replica,t_s,live_nodes,lookups,success_rate,hops_mean,latency_ms_mean,...
plot for [r=0:2] data using ($2 == r ? ($3 + 15) / 60 : 1/0):($6 * 100) with linespoints \
         pt 7 ps 0.6 lc rgb "#1f77b4" title (r == 0 ? "success, each replica" : ""), \
     for [r=0:2] data using ($2 == r ? ($3 + 15) / 60 : 1/0):($8 / 1000) axes x1y2 \
         with lines dashtype 3 lc rgb "#d62728" title (r == 0 ? "latency, each replica" : "")
