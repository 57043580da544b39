# Predicted energy per training example against parameter count, with cache edges
# Written by wsenergy. Data: cpu_shapes.dat. Restyle freely, then render with:
#   gnuplot cpu_shapes.gp      (writes cpu_shapes.svg and cpu_shapes.png here)
if (!exists('stem')) stem = 'cpu_shapes'
set encoding utf8
set title 'Energy per training example, eagle_cpu, 201_pol: model fitted eagle-cpu (lines), measured runs (circles)' noenhanced
set xlabel 'parameters (log scale)'
set ylabel 'energy per training example (J, log scale)'
set logscale x 2
set logscale y 10
set format x '2^{%L}'
set format y '%g'
set xrange [38:2.51718e+07]
set mytics 10
set grid xtics ytics mytics lc rgb '#e4e4e4', lc rgb '#f2f2f2'
set key top left box opaque samplen 2
# Cache edges: where the fp32 parameters alone fill the levels up to and including this one
# (cumulative per-unit capacity / 4 bytes).
set arrow 1 from 8192, graph 0 to 8192, graph 1 nohead dt 2 lw 1.5 lc rgb '#B03030' back
set label 1 'L1d' at 8192, graph 1 center offset 0,0.7 tc rgb '#B03030' noenhanced
set arrow 2 from 270336, graph 0 to 270336, graph 1 nohead dt 2 lw 1.5 lc rgb '#B03030' back
set label 2 'L2' at 270336, graph 1 center offset 0,0.7 tc rgb '#B03030' noenhanced
set arrow 3 from 6.7584e+06, graph 0 to 6.7584e+06, graph 1 nohead dt 2 lw 1.5 lc rgb '#B03030' back
set label 3 'L3' at 6.7584e+06, graph 1 center offset 0,0.7 tc rgb '#B03030' noenhanced
set title offset 0,1
set terminal svg size 960,600 dynamic enhanced font 'Sans,12' background rgb 'white'
set output stem.'.svg'
plot 'cpu_shapes.dat' index 0 using 2:3 with linespoints lw 2 pt 7 ps 0.5 lc rgb '#0072B2' title 'rectangle, depth 6' noenhanced, \
     'cpu_shapes.dat' index 1 using 2:3 with linespoints lw 2 pt 7 ps 0.5 lc rgb '#D55E00' title 'trapezoid, depth 6' noenhanced, \
     'cpu_shapes.dat' index 2 using 2:3 with linespoints lw 2 pt 7 ps 0.5 lc rgb '#009E73' title 'exponential, depth 6' noenhanced, \
     'cpu_shapes.dat' index 3 using 2:3 with linespoints lw 2 pt 7 ps 0.5 lc rgb '#CC79A7' title 'wide_first_4x, depth 6' noenhanced, \
     'cpu_shapes.dat' index 4 using 2:3 with linespoints lw 2 pt 7 ps 0.5 lc rgb '#E69F00' title 'wide_first_16x, depth 6' noenhanced, \
     'cpu_shapes.dat' index 5 using 2:3 with points pt 6 ps 1.5 lw 2 lc rgb '#0072B2' title 'measured: rectangle, depth 6 (5 runs)' noenhanced, \
     'cpu_shapes.dat' index 6 using 2:3 with points pt 6 ps 1.5 lw 2 lc rgb '#D55E00' title 'measured: trapezoid, depth 6 (1 run)' noenhanced, \
     'cpu_shapes.dat' index 7 using 2:3 with points pt 6 ps 1.5 lw 2 lc rgb '#009E73' title 'measured: exponential, depth 6 (5 runs)' noenhanced, \
     'cpu_shapes.dat' index 8 using 2:3 with points pt 6 ps 1.5 lw 2 lc rgb '#CC79A7' title 'measured: wide_first_4x, depth 6 (4 runs)' noenhanced, \
     'cpu_shapes.dat' index 9 using 2:3 with points pt 6 ps 1.5 lw 2 lc rgb '#E69F00' title 'measured: wide_first_16x, depth 6 (4 runs)' noenhanced, \
     NaN with lines dt 2 lw 1.5 lc rgb '#B03030' title 'cache edge (fp32 parameters fill the levels up to it)'
set terminal pngcairo size 1280,800 enhanced font 'Sans,12' background rgb 'white'
set output stem.'.png'
replot
unset output
